//go:build e2e

package canary

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pipewright/pipewright/test/controlplane"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

// With -tags e2e every test of the package runs inside the control-plane
// sandbox (test/controlplane): a real etcd and kube-apiserver, no Tekton,
// with the CRDs of testdata/ applied: Gateway API HTTPRoute, SMI
// TrafficSplit, Flagger and Argo Rollouts. Prometheus and the test app
// run on the sandbox's loopback.
var realEnv kubeEnv

func TestMain(m *testing.M) { os.Exit(runE2E(m)) }

func runE2E(m *testing.M) int {
	sb, err := controlplane.Isolate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "canary e2e:", err)
		return 1
	}
	defer sb.Close()
	ctx := context.Background()
	cp, err := controlplane.Start(ctx, sb, controlplane.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "canary e2e: starting the control plane:", err)
		return 1
	}
	code := 1
	defer func() {
		if err := cp.Stop(code != 0); err != nil {
			fmt.Fprintln(os.Stderr, "canary e2e: stopping the control plane:", err)
		}
	}()
	if err := setUpRealEnv(ctx, cp.Kubeconfig); err != nil {
		fmt.Fprintln(os.Stderr, "canary e2e:", err)
		fmt.Fprintln(os.Stderr, cp.Logs(15))
		return code
	}
	code = m.Run()
	return code
}

func setUpRealEnv(ctx context.Context, kubeconfig string) error {
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	// The tests poll every 50-100ms from several goroutines (stand-in
	// kubelet and controllers, the release itself); client-go's default of
	// 5 requests a second would throttle them into slow motion.
	rc.QPS, rc.Burst = 500, 1000
	kc, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	dc, err := dynamic.NewForConfig(rc)
	if err != nil {
		return err
	}
	// The CRDs (testdata/README.md), created (not client-side applied:
	// some are larger than the last-applied annotation may be).
	crds := dc.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	files := []string{filepath.Join("testdata", "trafficsplit-crd.yaml")}
	for _, u := range upstreamCRDs {
		f, err := u.file(ctx)
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	for _, file := range files {
		docs, err := readYAMLDocs(file)
		if err != nil {
			return err
		}
		for _, crd := range docs {
			if _, err := crds.Create(ctx, crd, metav1.CreateOptions{}); err != nil {
				return fmt.Errorf("creating the CRD %s of %s: %w", crd.GetName(), file, err)
			}
		}
	}
	for _, gvr := range []schema.GroupVersionResource{HTTPRouteResource, TrafficSplitResource, FlaggerCanaryResource, ArgoRolloutResource} {
		deadline := time.Now().Add(time.Minute)
		for {
			// Established, and served: a list answers.
			_, err := dc.Resource(gvr).Namespace("default").List(ctx, metav1.ListOptions{})
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s not served 1m after its CRD was created: %w", gvr, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	realEnv = kubeEnv{kc: kc, dc: dc, real: true, kubeconfig: kubeconfig}
	return nil
}

// readYAMLDocs reads the objects of a multi-document YAML file, skipping
// documents that hold only comments.
// upstreamCRDs are the real CRDs of the APIs the canary drives, taken
// unmodified from their projects' Go modules through the module proxy, so
// none is copied into this repository.
var upstreamCRDs = []moduleFile{
	{"sigs.k8s.io/gateway-api", "v1.6.1", "config/crd/standard/gateway.networking.k8s.io_httproutes.yaml"},
	{"github.com/fluxcd/flagger", "v1.44.0", "artifacts/flagger/crd.yaml"},
	{"github.com/argoproj/argo-rollouts", "v1.9.1", "manifests/crds/rollout-crd.yaml"},
}

// moduleFile is a file inside a Go module version.
type moduleFile struct{ module, version, path string }

// file finds the module in the module cache and returns the file's path
// in it. `make canary-e2e` downloads the modules first (test/crds.sh): the
// tests run where the network may be out of reach, so they only read the
// cache (GOPROXY=off).
func (m moduleFile) file(ctx context.Context) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", m.module+"@"+m.version)
	// Outside this module, so its go.mod and go.sum are left alone.
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GO111MODULE=on", "GOPROXY=off")
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr != nil || info.Error != "" || err != nil {
		return "", fmt.Errorf("CRD %s from %s@%s is not in the module cache (run make canary-e2e, which downloads it): %v %s", m.path, m.module, m.version, err, info.Error)
	}
	return filepath.Join(info.Dir, filepath.FromSlash(m.path)), nil
}

func readYAMLDocs(path string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := utilyaml.NewYAMLReader(bufio.NewReader(f))
	var out []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		var u unstructured.Unstructured
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(u.Object) > 0 {
			out = append(out, &u)
		}
	}
}

func newKubeEnv(t *testing.T) kubeEnv {
	t.Helper()
	return realEnv
}
