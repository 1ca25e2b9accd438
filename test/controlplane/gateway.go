package controlplane

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// The node's Gateway API implementation: Traefik, in the namespace and with
// the ServiceAccount its own RBAC document binds (traefik-controller in
// default).
const (
	GatewayNamespace = "default"
	// GatewayClass and Gateway are the objects HTTPRoutes attach to
	// (parentRefs: [{namespace: default, name: pipewright}]).
	GatewayClass = "traefik"
	Gateway      = "pipewright"
	// GatewayPort is the Gateway listener's port, and the port of Traefik's
	// entrypoint serving it (Traefik matches listeners to entrypoints by
	// port).
	GatewayPort = 8000
	// TraefikMetricsPort serves Traefik's Prometheus metrics at /metrics.
	TraefikMetricsPort = 9100
	traefikPingPort    = 9000
)

// Traefik is the running Gateway.
type Traefik struct {
	// Image is the image the Pod runs, built from test/tools/traefik.
	Image string
	// URL is the Gateway as clients inside the sandbox reach it: the
	// traefik Service's ClusterIP (the harness's Service proxy sends it to
	// the Pod).
	URL string
	// PodURL is the Gateway's listener on the Pod itself, the way a
	// cloud load balancer reaches it: without the harness's userspace
	// Service proxy, whose accept queue a busy machine overflows.
	PodURL string
	// Metrics is the Pod's metrics endpoint (podIP:port) for Prometheus.
	Metrics string
	// Pod is the Traefik Pod's name.
	Pod string
}

// InstallGatewayAPI applies the Gateway API CRDs of the standard channel
// from the sigs.k8s.io/gateway-api module version Traefik's go.mod requires
// (test/tools/build.sh reports the folder), and waits until they are
// established. It does so once per control plane.
func (cp *ControlPlane) InstallGatewayAPI(ctx context.Context) error {
	cp.gatewayAPI.Do(func() { cp.gatewayAPIErr = cp.installGatewayAPI(ctx) })
	return cp.gatewayAPIErr
}

func (cp *ControlPlane) installGatewayAPI(ctx context.Context) error {
	dir, err := cp.sandbox.Binaries.Get("gateway-api-crds")
	if err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("gateway API CRDs: no YAML in %s (%v)", dir, err)
	}
	args := []string{"apply", "--server-side"}
	var names []string
	for _, f := range files {
		args = append(args, "-f", f)
		// gateway.networking.k8s.io_httproutes.yaml -> httproutes.gateway.networking.k8s.io
		group, plural, ok := strings.Cut(strings.TrimSuffix(filepath.Base(f), ".yaml"), "_")
		if !ok {
			return fmt.Errorf("gateway API CRD file %s: want <group>_<plural>.yaml", f)
		}
		names = append(names, "crd/"+plural+"."+group)
	}
	if out, err := cp.Kubectl(ctx, nil, args...); err != nil {
		return fmt.Errorf("gateway API CRDs from %s: %w\n%s", dir, err, out)
	}
	if _, err := cp.Kubectl(ctx, nil, append([]string{"wait", "--for=condition=Established", "--timeout=60s"}, names...)...); err != nil {
		return fmt.Errorf("gateway API CRDs: %w", err)
	}
	cp.logf("Gateway API CRDs installed from %s", dir)
	return nil
}

// StartTraefik runs Traefik as the node's Gateway API implementation: its
// image built with pipewright's image builder from test/tools/traefik, the
// RBAC its module documents, a Deployment with the kubernetesgateway
// provider and Prometheus metrics, a Service, the GatewayClass and a Gateway
// that accepts HTTPRoutes from every namespace. It waits until the Gateway is
// Programmed.
func (cp *ControlPlane) StartTraefik(ctx context.Context) (*Traefik, error) {
	if cp.node == nil {
		return nil, errors.New("traefik: no node (Options.Node is off)")
	}
	if err := cp.InstallGatewayAPI(ctx); err != nil {
		return nil, err
	}
	rbac, err := cp.sandbox.Binaries.Get("traefik-gateway-rbac")
	if err != nil {
		return nil, err
	}
	start := time.Now()
	// A cold build cache makes this minutes (build.sh fills it); warm it
	// is the link and the push of a 250 MB binary.
	mod := filepath.Join(filepath.Dir(BuildScript()), "traefik")
	img, err := cp.buildImage(ctx, mod, "github.com/traefik/traefik/v3/cmd/traefik", "traefik", "")
	if err != nil {
		return nil, err
	}
	cp.logf("traefik image %s built and pushed (%.1fs)", img, time.Since(start).Seconds())
	b, err := os.ReadFile(rbac)
	if err != nil {
		return nil, err
	}
	if out, err := cp.Kubectl(ctx, b, "apply", "-f", "-"); err != nil {
		return nil, fmt.Errorf("traefik RBAC from %s: %w\n%s", rbac, err, out)
	}
	if out, err := cp.Kubectl(ctx, []byte(traefikManifests(img)), "apply", "-f", "-"); err != nil {
		return nil, fmt.Errorf("traefik: %w\n%s", err, out)
	}
	if _, err := cp.Kubectl(ctx, nil, "rollout", "status", "deployment/traefik", "-n", GatewayNamespace, "--timeout=3m"); err != nil {
		desc, _ := cp.Kubectl(ctx, nil, "describe", "pods", "-n", GatewayNamespace, "-l", "app=traefik")
		logs, _ := cp.Kubectl(ctx, nil, "logs", "-n", GatewayNamespace, "deployment/traefik", "--tail=30")
		return nil, fmt.Errorf("traefik Deployment: %w\n%s\n%s", err, desc, logs)
	}
	var status string
	err = cp.WaitFor(ctx, time.Minute, func() (bool, error) {
		out, err := cp.Kubectl(ctx, nil, "get", "gateway", Gateway, "-n", GatewayNamespace, "-o", `jsonpath={.status.conditions[?(@.type=="Programmed")].status}`)
		status = strings.TrimSpace(string(out))
		return err == nil && status == "True", nil
	})
	if err != nil {
		logs, _ := cp.Kubectl(ctx, nil, "logs", "-n", GatewayNamespace, "deployment/traefik", "--tail=30")
		return nil, fmt.Errorf("gateway %s/%s not Programmed (%q): %w\ntraefik:\n%s", GatewayNamespace, Gateway, status, err, logs)
	}
	ip, err := cp.clusterIP(ctx, GatewayNamespace, "traefik")
	if err != nil {
		return nil, err
	}
	var pods corev1.PodList
	if err := cp.Get(ctx, GatewayNamespace, "pods", "", &pods); err != nil {
		return nil, err
	}
	t := &Traefik{Image: img, URL: fmt.Sprintf("http://%s:80", ip)}
	for _, p := range pods.Items {
		if p.Labels["app"] == "traefik" && p.DeletionTimestamp == nil && p.Status.PodIP != "" {
			t.Pod, t.Metrics = p.Name, hostPort(p.Status.PodIP, TraefikMetricsPort)
			t.PodURL = "http://" + hostPort(p.Status.PodIP, GatewayPort)
		}
	}
	if t.Pod == "" {
		return nil, errors.New("traefik: no running Pod after the rollout")
	}
	cp.logf("traefik: Gateway %s/%s programmed at %s, metrics at %s (%.1fs)", GatewayNamespace, Gateway, t.URL, t.Metrics, time.Since(start).Seconds())
	return t, nil
}

// traefikManifests are the ServiceAccount Traefik's RBAC document binds,
// Traefik's Deployment and Service, the GatewayClass and the Gateway. Offline settings: no version check, no usage report.
// Buckets: finer than the default 0.1/0.3/1.2/5 s, so that a p99 bound in
// the hundreds of milliseconds is measured, not interpolated across a wide
// bucket.
func traefikManifests(image string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: ServiceAccount
metadata: {name: traefik-controller, namespace: %[1]s}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: traefik, namespace: %[1]s, labels: {app: traefik}}
spec:
  replicas: 1
  selector: {matchLabels: {app: traefik}}
  template:
    metadata: {labels: {app: traefik}}
    spec:
      serviceAccountName: traefik-controller
      terminationGracePeriodSeconds: 5
      securityContext: {runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532}
      containers:
      - name: traefik
        image: %[2]s
        args:
        - --global.checknewversion=false
        - --global.sendanonymoususage=false
        - --log.level=INFO
        - --entrypoints.web.address=:%[3]d
        - --entrypoints.metrics.address=:%[4]d
        - --entrypoints.traefik.address=:%[5]d
        - --ping=true
        - --ping.entrypoint=traefik
        - --metrics.prometheus=true
        - --metrics.prometheus.entrypoint=metrics
        - --metrics.prometheus.addserviceslabels=true
        - --metrics.prometheus.addentrypointslabels=true
        - --metrics.prometheus.buckets=0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5
        - --providers.kubernetesgateway=true
        ports:
        - {name: web, containerPort: %[3]d}
        - {name: metrics, containerPort: %[4]d}
        - {name: ping, containerPort: %[5]d}
        readinessProbe:
          httpGet: {path: /ping, port: %[5]d}
          periodSeconds: 2
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
---
apiVersion: v1
kind: Service
metadata: {name: traefik, namespace: %[1]s}
spec:
  selector: {app: traefik}
  ports:
  - {name: web, port: 80, targetPort: web}
  - {name: metrics, port: %[4]d, targetPort: metrics}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: %[6]s}
spec:
  controllerName: traefik.io/gateway-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: %[7]s, namespace: %[1]s}
spec:
  gatewayClassName: %[6]s
  listeners:
  - name: web
    protocol: HTTP
    port: %[3]d
    allowedRoutes:
      namespaces: {from: All}
`, GatewayNamespace, image, GatewayPort, TraefikMetricsPort, traefikPingPort, GatewayClass, Gateway)
}
