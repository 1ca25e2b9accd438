package controlplane

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Image references in the releases' config/ are ko:// build paths, which a
// release process replaces with pushed images. Here nothing is pushed or
// pulled: they become references under the reserved .invalid domain that name
// the same program, and imageBinary maps them back to the binary we built.
const koPrefix = "ko://github.com/tektoncd/"
const placeholderPrefix = "ko.invalid/github.com/tektoncd/"

func placeholderImage(ref, version string) string {
	if rest, ok := strings.CutPrefix(ref, koPrefix); ok {
		return placeholderPrefix + rest + ":" + version
	}
	return ref
}

// imageBinary names the build.sh output for a container image such as
// ko://github.com/tektoncd/pipeline/cmd/controller.
func imageBinary(image string) (string, bool) {
	rest, ok := strings.CutPrefix(image, koPrefix)
	if !ok {
		if rest, ok = strings.CutPrefix(image, placeholderPrefix); !ok {
			return "", false
		}
		rest, _, _ = strings.Cut(rest, ":")
	}
	repo, cmd, ok := strings.Cut(rest, "/cmd/")
	if !ok || strings.Contains(cmd, "/") {
		return "", false
	}
	return "tekton-" + map[string]string{"pipeline": "pipelines", "triggers": "triggers"}[repo] + "/" + cmd, true
}

// portEnv are the knative/Tekton conventions for the ports a program opens,
// with the container port each one defaults to. They are all moved to fresh
// ports because every process shares the sandbox's one network namespace.
var portEnv = []struct {
	env  string
	port int32
}{
	{"PROBES_PORT", 8080},
	{"METRICS_PROMETHEUS_PORT", 9090},
	{"PROFILING_PORT", 8008},
	{"WEBHOOK_PORT", 8443},
}

// deployment runs the first container of d as a local process, as its Pod
// would run it: same arguments and environment, authenticated as the Pod's
// ServiceAccount. It returns the process and where each container port ended
// up.
func (cp *ControlPlane) deployment(ctx context.Context, d *appsv1.Deployment, version string, argPort map[string]int32) (*process, map[int32]int, error) {
	spec := d.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		return nil, nil, fmt.Errorf("deployment %s/%s: %d containers, want 1", d.Namespace, d.Name, len(spec.Containers))
	}
	c := spec.Containers[0]
	binName, ok := imageBinary(c.Image)
	if !ok {
		return nil, nil, fmt.Errorf("deployment %s/%s: image %s is not a Tekton program this harness builds", d.Namespace, d.Name, c.Image)
	}
	bin, err := cp.sandbox.Binaries.Get(binName)
	if err != nil {
		return nil, nil, fmt.Errorf("deployment %s/%s: %w", d.Namespace, d.Name, err)
	}

	env := map[string]string{}
	for _, e := range c.Env {
		v, err := envValue(d, e)
		if err != nil {
			return nil, nil, err
		}
		env[e.Name] = v
	}
	ports := map[int32]int{}
	declared := map[string]bool{}
	for _, p := range c.Ports {
		declared[p.Name] = true
	}
	for _, pe := range portEnv {
		container := pe.port
		if v, ok := env[pe.env]; ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, nil, fmt.Errorf("deployment %s/%s: %s=%q is not a port", d.Namespace, d.Name, pe.env, v)
			}
			container = int32(n)
		} else if pe.env == "WEBHOOK_PORT" && !declared["https-webhook"] {
			continue // not a webhook
		}
		ports[container] = cp.allocPort()
		env[pe.env] = strconv.Itoa(ports[container])
	}

	args := make([]string, 0, len(c.Args))
	for i, a := range c.Args {
		if cp.node != nil {
			if ref, ok := cp.node.imageArg(c.Args, i); ok {
				args = append(args, ref)
				continue
			}
		}
		// Flags like --port=8080 name a container port directly.
		if flag, val, ok := strings.Cut(a, "="); ok {
			if container, ok := argPort[flag]; ok {
				if val != strconv.Itoa(int(container)) {
					return nil, nil, fmt.Errorf("deployment %s/%s: %s, expected %d", d.Namespace, d.Name, a, container)
				}
				ports[container] = cp.allocPort()
				a = flag + "=" + strconv.Itoa(ports[container])
			}
		}
		args = append(args, placeholderImage(a, version))
	}

	kubeconfig, err := cp.serviceAccountKubeconfig(ctx, d.Namespace, spec.ServiceAccountName)
	if err != nil {
		return nil, nil, fmt.Errorf("deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	env["KUBECONFIG"] = kubeconfig
	var envList []string
	for _, k := range slices.Sorted(maps.Keys(env)) {
		envList = append(envList, k+"="+env[k])
	}
	p, err := startProcess(cp.logDir, d.Namespace+"_"+d.Name, bin, args, envList)
	if err != nil {
		return nil, nil, err
	}
	cp.addProcess(p)
	return p, ports, nil
}

// envValue resolves an env var the way the kubelet would for a Pod of d.
func envValue(d *appsv1.Deployment, e corev1.EnvVar) (string, error) {
	if e.ValueFrom == nil {
		return e.Value, nil
	}
	if f := e.ValueFrom.FieldRef; f != nil {
		switch f.FieldPath {
		case "metadata.namespace":
			return d.Namespace, nil
		case "metadata.name":
			return d.Name + "-0", nil
		}
	}
	return "", fmt.Errorf("deployment %s/%s: env %s: only metadata.namespace and metadata.name references are supported", d.Namespace, d.Name, e.Name)
}

// route makes the Services that select d's Pods reach the process: each
// service port forwards from the Service's ClusterIP to where the container
// port ended up, and <service>.<namespace>.svc resolves to the ClusterIP.
func (cp *ControlPlane) route(ctx context.Context, d *appsv1.Deployment, services []corev1.Service, ports map[int32]int) error {
	labels := d.Spec.Template.Labels
	for _, s := range services {
		if s.Namespace != d.Namespace || len(s.Spec.Selector) == 0 || !selects(s.Spec.Selector, labels) {
			continue
		}
		ip, err := cp.clusterIP(ctx, s.Namespace, s.Name)
		if err != nil {
			return err
		}
		for _, sp := range s.Spec.Ports {
			container, err := targetPort(d, sp.TargetPort, sp.Port)
			if err != nil {
				return fmt.Errorf("service %s/%s port %s: %w", s.Namespace, s.Name, sp.Name, err)
			}
			backend, moved := ports[container]
			if !moved {
				backend = int(container)
				if backend == int(sp.Port) {
					// The program listens on every address at the service's
					// own port, which includes the ClusterIP.
					cp.proxy.claim(hostPort(ip, int(sp.Port)))
					continue
				}
			}
			if err := cp.proxy.forward(hostPort(ip, int(sp.Port)), hostPort("127.0.0.1", backend)); err != nil {
				return fmt.Errorf("service %s/%s: %w", s.Namespace, s.Name, err)
			}
		}
		if err := cp.addHost(ip, s.Name+"."+s.Namespace+".svc", s.Name+"."+s.Namespace+".svc.cluster.local"); err != nil {
			return err
		}
	}
	return nil
}

func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func targetPort(d *appsv1.Deployment, tp intstr.IntOrString, port int32) (int32, error) {
	switch {
	case tp.Type == intstr.Int && tp.IntVal != 0:
		return tp.IntVal, nil
	case tp.Type == intstr.String && tp.StrVal != "":
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, p := range c.Ports {
				if p.Name == tp.StrVal {
					return p.ContainerPort, nil
				}
			}
		}
		return 0, fmt.Errorf("no container port named %q in deployment %s", tp.StrVal, d.Name)
	}
	return port, nil
}

// serviceAccountKubeconfig writes a kubeconfig holding a token the API
// server issues for the ServiceAccount (TokenRequest), as a Pod's projected
// token would, so the release's RBAC decides what the program may do.
func (cp *ControlPlane) serviceAccountKubeconfig(ctx context.Context, namespace, sa string) (string, error) {
	if sa == "" {
		sa = "default"
	}
	token, err := cp.Kubectl(ctx, nil, "create", "token", sa, "-n", namespace, "--duration=24h")
	if err != nil {
		return "", fmt.Errorf("token for serviceaccount %s/%s: %w", namespace, sa, err)
	}
	path := filepath.Join(cp.dir, "kubeconfig-"+namespace+"-"+sa)
	return path, os.WriteFile(path, cp.kubeconfig(strings.TrimSpace(string(token))), 0o600)
}
