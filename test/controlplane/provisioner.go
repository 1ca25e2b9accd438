package controlplane

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// provisionerName is the StorageClass provisioner the harness plays.
const provisionerName = "pipewright.dev/local-directory"

// startProvisioner installs the default StorageClass and provisions its
// claims the way cloud block storage behaves for a Pod: each claim gets a
// fresh folder owned by root with mode 0755, served as a Kubernetes `local`
// PersistentVolume, whose ownership kubelet changes to the Pod's fsGroup on
// first mount. A step running as non-root without fsGroup therefore cannot
// write there, exactly as on a real cluster. (The hostPath provisioner gets
// no fsGroup handling, and kind's local-path provisioner makes 0777
// folders: either would hide that defect.) Released volumes are deleted.
func (cp *ControlPlane) startProvisioner(ctx context.Context) error {
	client := cp.node.client
	sc := &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        StorageClass,
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"},
		},
		Provisioner:       provisionerName,
		ReclaimPolicy:     ptr.To(corev1.PersistentVolumeReclaimDelete),
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingImmediate),
	}
	if _, err := client.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating StorageClass %s: %w", StorageClass, err)
	}
	root := filepath.Join(cp.node.dir, "volumes")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	pctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	cp.stopProvisioner = func() { cancel(); <-done }
	go func() {
		defer close(done)
		for {
			if err := provisionOnce(pctx, client, root); err != nil && pctx.Err() == nil {
				cp.logf("provisioner: %v", err)
			}
			select {
			case <-pctx.Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	cp.logf("default StorageClass %s: local volumes under %s", StorageClass, root)
	return nil
}

// provisionOnce creates a volume for every pending claim of the class and
// deletes released volumes.
func provisionOnce(ctx context.Context, client kubernetes.Interface, root string) error {
	// ResourceVersion "0": from the API server's watch cache, not etcd;
	// this loop runs all suite long on 2 cores.
	claims, err := client.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return err
	}
	for _, c := range claims.Items {
		if c.Spec.VolumeName != "" || c.Status.Phase != corev1.ClaimPending || c.DeletionTimestamp != nil ||
			c.Spec.StorageClassName == nil || *c.Spec.StorageClassName != StorageClass {
			continue
		}
		if err := provision(ctx, client, root, &c); err != nil {
			return fmt.Errorf("claim %s/%s: %w", c.Namespace, c.Name, err)
		}
	}
	vols, err := client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return err
	}
	for _, v := range vols.Items {
		if v.Annotations["pv.kubernetes.io/provisioned-by"] != provisionerName || v.DeletionTimestamp != nil ||
			(v.Status.Phase != corev1.VolumeReleased && v.Status.Phase != corev1.VolumeFailed) {
			continue
		}
		if v.Spec.Local != nil {
			if err := os.RemoveAll(v.Spec.Local.Path); err != nil {
				return err
			}
		}
		if err := client.CoreV1().PersistentVolumes().Delete(ctx, v.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

func provision(ctx context.Context, client kubernetes.Interface, root string, c *corev1.PersistentVolumeClaim) error {
	name := "pvc-" + string(c.UID)
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// MkdirAll honours the umask; the point is exactly root:root 0755.
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	size, ok := c.Spec.Resources.Requests[corev1.ResourceStorage]
	if !ok {
		return fmt.Errorf("no storage request")
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{"pv.kubernetes.io/provisioned-by": provisionerName},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   c.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			StorageClassName:              StorageClass,
			VolumeMode:                    c.Spec.VolumeMode,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: c.Namespace, Name: c.Name, UID: c.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: dir}},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
					Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{NodeName},
				}}}},
			}},
		},
	}
	_, err := client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}
