package controlplane

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestImageBinary(t *testing.T) {
	for _, tc := range []struct {
		image, want string
		ok          bool
	}{
		{"ko://github.com/tektoncd/pipeline/cmd/controller", "tekton-pipelines/controller", true},
		{"ko://github.com/tektoncd/triggers/cmd/eventlistenersink", "tekton-triggers/eventlistenersink", true},
		{"ko.invalid/github.com/tektoncd/triggers/cmd/eventlistenersink:v0.37.0", "tekton-triggers/eventlistenersink", true},
		{"ko://github.com/tektoncd/pipeline/cmd/resolvers/sub", "", false},
		{"gcr.io/tekton-releases/controller:v1", "", false},
	} {
		got, ok := imageBinary(tc.image)
		if got != tc.want || ok != tc.ok {
			t.Errorf("imageBinary(%q) = %q, %v; want %q, %v", tc.image, got, ok, tc.want, tc.ok)
		}
	}
	// What the Triggers controller is told to put in EventListener
	// Deployments must map back to the sink binary.
	if got, _ := imageBinary(placeholderImage("ko://github.com/tektoncd/triggers/cmd/eventlistenersink", "v0.37.0")); got != "tekton-triggers/eventlistenersink" {
		t.Errorf("placeholder round trip = %q", got)
	}
	if got := placeholderImage("-el-port", "v1"); got != "-el-port" {
		t.Errorf("placeholderImage changed a plain argument: %q", got)
	}
}

func TestSortRelease(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("300-crd.yaml", "# comment only\n---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: things.example.dev}\nspec: {group: example.dev}\n")
	write("500-webhooks.yaml", "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: v}\n")
	write("controller.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: c, namespace: ns}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: c, namespace: ns}\n")
	write("hpa.yaml", "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n")
	write("interceptors/thing.yaml", "apiVersion: example.dev/v1\nkind: Thing\nmetadata: {name: t}\n")
	write("resolvers/skip.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: skipped}\n")

	r, err := loadRelease("test", dir, "resolvers")
	if err != nil {
		t.Fatal(err)
	}
	names := func(objs []object) string {
		var s []string
		for _, o := range objs {
			s = append(s, o.Kind+"/"+o.Metadata.Name)
		}
		return strings.Join(s, ",")
	}
	for _, c := range []struct{ what, got, want string }{
		{"apply", names(r.apply), "CustomResourceDefinition/things.example.dev,Service/c"},
		{"webhookConfigs", names(r.webhookConfigs), "ValidatingWebhookConfiguration/v"},
		{"custom", names(r.custom), "Thing/t"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %s, want %s", c.what, c.got, c.want)
		}
	}
	if len(r.deployments) != 1 || r.deployments[0].Name != "c" || len(r.services) != 1 || len(r.skipped) != 1 {
		t.Errorf("deployments %d, services %d, skipped %v", len(r.deployments), len(r.services), r.skipped)
	}
	if s := string(yamlStream(r.webhookConfigs)); !strings.HasPrefix(s, "---\napiVersion: admissionregistration.k8s.io/v1\n") {
		t.Errorf("yamlStream = %q", s)
	}
}

func TestTargetPort(t *testing.T) {
	d := &appsv1.Deployment{}
	d.Name = "w"
	d.Spec.Template.Spec.Containers = []corev1.Container{{Ports: []corev1.ContainerPort{{Name: "https-webhook", ContainerPort: 8443}}}}
	for _, tc := range []struct {
		tp   intstr.IntOrString
		want int32
		err  bool
	}{
		{intstr.FromString("https-webhook"), 8443, false},
		{intstr.FromInt32(9090), 9090, false},
		{intstr.IntOrString{}, 443, false}, // unset: the service port
		{intstr.FromString("nope"), 0, true},
	} {
		got, err := targetPort(d, tc.tp, 443)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("targetPort(%v) = %d, %v", tc.tp, got, err)
		}
	}
}

func TestServiceProxyForwards(t *testing.T) {
	backend, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	go func() {
		c, err := backend.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		_, _ = c.Write([]byte(strings.ToUpper(string(b))))
	}()
	// Find a free frontend port, then let the proxy take it.
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	frontend := probe.Addr().String()
	probe.Close()

	var p serviceProxy
	if err := p.forward(frontend, backend.Addr().String()); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", frontend)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	_ = c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(c)
	c.Close()
	if err != nil || string(got) != "HELLO" {
		t.Errorf("through the proxy: %q, %v; want HELLO", got, err)
	}
	if err := p.close(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("tcp", frontend); err == nil {
		c.Close()
		t.Error("proxy still accepts after close")
	}
}

func TestParseBuildOutput(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "etcd")
	if err := os.WriteFile(bin, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := parseBuildOutput([]byte("etcd/etcd=" + bin + "\n\n"))
	if err != nil || b["etcd/etcd"] != bin {
		t.Fatalf("parseBuildOutput = %v, %v", b, err)
	}
	if _, err := b.Get("kubectl/kubectl"); err == nil || !strings.Contains(err.Error(), "etcd/etcd") {
		t.Errorf("Get of a missing program: %v", err)
	}
	for _, bad := range []string{"no equals sign", "x=/does/not/exist"} {
		if _, err := parseBuildOutput([]byte(bad)); err == nil {
			t.Errorf("parseBuildOutput(%q) accepted it", bad)
		}
	}
}
