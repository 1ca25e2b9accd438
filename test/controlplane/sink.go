package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// EventListenerSink is an EventListener's sink: with a node, the Pod the
// Triggers controller's Deployment runs; without, a local process.
type EventListenerSink struct {
	// URL is the EventListener's address as Triggers reports it
	// (http://el-<name>.<namespace>.svc.cluster.local:8080); it resolves and
	// routes inside the sandbox like it would inside a cluster.
	URL string
	p   *process
	// namespace/deployment runs the sink's Pod when it runs on the node.
	namespace, deployment string
	cp                    *ControlPlane
}

// Stop ends the sink process; a sink Pod stays until its EventListener is
// deleted.
func (s *EventListenerSink) Stop() {
	if s.p != nil {
		s.p.stop(5 * time.Second)
	}
}

// StartEventListener runs the sink for an EventListener that has been
// applied. The Triggers controller reconciles the EventListener into a
// Deployment and a Service; with no kubelet the Deployment's Pod never runs,
// so this runs that Pod's container as a local process, with exactly the
// arguments and environment the reconciler wrote into the Deployment, and
// routes the Service to it.
func (cp *ControlPlane) StartEventListener(ctx context.Context, namespace, name string) (*EventListenerSink, error) {
	var el struct {
		Status struct {
			Configuration struct {
				GeneratedName string `json:"generatedName"`
			} `json:"configuration"`
			Address struct {
				URL string `json:"url"`
			} `json:"address"`
		} `json:"status"`
	}
	var d appsv1.Deployment
	err := cp.WaitFor(ctx, time.Minute, func() (bool, error) {
		if err := cp.Get(ctx, namespace, "eventlistener", name, &el); err != nil {
			return false, err
		}
		gen := el.Status.Configuration.GeneratedName
		if gen == "" || el.Status.Address.URL == "" {
			return false, nil
		}
		if err := cp.Get(ctx, namespace, "deployment", gen, &d); err != nil {
			return false, nil // not created yet
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("eventlistener %s/%s: no Deployment from the Triggers controller: %w", namespace, name, err)
	}
	var svc corev1.Service
	if err := cp.Get(ctx, namespace, "service", d.Name, &svc); err != nil {
		return nil, fmt.Errorf("eventlistener %s/%s: %w", namespace, name, err)
	}
	if cp.node != nil {
		return cp.eventListenerPod(ctx, &d, &svc, el.Status.Address.URL)
	}
	p, ports, err := cp.deployment(ctx, &d, cp.versions["tekton-triggers"], map[string]int32{"--port": 8080})
	if err != nil {
		return nil, err
	}
	sink := &EventListenerSink{URL: el.Status.Address.URL, p: p}
	if err := cp.route(ctx, &d, []corev1.Service{svc}, ports); err != nil {
		sink.Stop()
		return nil, err
	}
	if err := cp.waitHTTP(ctx, p, fmt.Sprintf("http://127.0.0.1:%d/live", ports[8080]), nil, "eventlistener "+namespace+"/"+name); err != nil {
		sink.Stop()
		return nil, err
	}
	// This process's resolver caches /etc/hosts for a few seconds; wait
	// until it sees the Service's name, so the URL works at once.
	u, err := url.Parse(sink.URL)
	if err != nil {
		sink.Stop()
		return nil, fmt.Errorf("eventlistener %s/%s: address %q: %w", namespace, name, sink.URL, err)
	}
	err = poll(ctx, 15*time.Second, 200*time.Millisecond, func() (bool, error) {
		addrs, _ := net.DefaultResolver.LookupHost(ctx, u.Hostname())
		return len(addrs) > 0, nil
	})
	if err != nil {
		sink.Stop()
		return nil, fmt.Errorf("eventlistener %s/%s: %s does not resolve: %w", namespace, name, u.Hostname(), err)
	}
	return sink, nil
}

// Get decodes `kubectl get kind name -n namespace -o json` into into.
func (cp *ControlPlane) Get(ctx context.Context, namespace, kind, name string, into any) error {
	// An empty name lists kind (decode into a List).
	args := []string{"get", kind, "-o", "json"}
	if name != "" {
		args = append(args, name)
	}
	if namespace != "" {
		args = append(args, "-n", namespace)
	}
	out, err := cp.Kubectl(ctx, nil, args...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(out, into); err != nil {
		return fmt.Errorf("%s %s/%s: %w", kind, namespace, name, err)
	}
	return nil
}

// WaitFor polls f every half second until it returns true, returns an error,
// a process of the control plane dies, or timeout passes.
func (cp *ControlPlane) WaitFor(ctx context.Context, timeout time.Duration, f func() (bool, error)) error {
	return poll(ctx, timeout, 500*time.Millisecond, func() (bool, error) {
		if err := cp.Healthy(); err != nil {
			return false, err
		}
		return f()
	})
}

// CreateNamespace creates a namespace with its "default" ServiceAccount,
// which kube-controller-manager would add and Pod admission requires.
// With a node, kube-controller-manager adds both the ServiceAccount and the
// kube-root-ca.crt ConfigMap Pods mount; CreateNamespace waits for them.
func (cp *ControlPlane) CreateNamespace(ctx context.Context, name string) error {
	if _, err := cp.Kubectl(ctx, nil, "create", "namespace", name); err != nil {
		return err
	}
	if cp.node == nil {
		_, err := cp.Kubectl(ctx, nil, "create", "serviceaccount", "default", "-n", name)
		return err
	}
	return cp.WaitFor(ctx, time.Minute, func() (bool, error) {
		_, err := cp.Kubectl(ctx, nil, "get", "serviceaccount/default", "configmap/kube-root-ca.crt", "-n", name)
		return err == nil, nil
	})
}

// ApplyDir runs `kubectl apply -R -f dir` for each dir into namespace and
// returns kubectl's output, one line per object.
func (cp *ControlPlane) ApplyDir(ctx context.Context, namespace string, dirs ...string) ([]byte, error) {
	args := []string{"apply", "-R", "-n", namespace}
	for _, d := range dirs {
		args = append(args, "-f", d)
	}
	return cp.Kubectl(ctx, nil, args...)
}

// Log returns the last lines of the sink's log.
func (s *EventListenerSink) Log(lines int) string {
	if s.p != nil {
		return s.p.tail(lines)
	}
	// The Deployment, not the Pod the sink first found: the pipewright
	// interceptor restarts the EventListener's Pods once its CA is
	// published.
	out, err := s.cp.Kubectl(context.Background(), nil, "logs", "-n", s.namespace, "deployment/"+s.deployment, "--tail="+strconv.Itoa(lines))
	if err != nil {
		return err.Error()
	}
	return string(out)
}

// eventListenerPod waits for the sink Pod the Triggers controller's
// Deployment runs on the node to be ready, and makes the Service's name
// resolve for the tests (Pods resolve it through the cluster DNS).
func (cp *ControlPlane) eventListenerPod(ctx context.Context, d *appsv1.Deployment, svc *corev1.Service, url string) (*EventListenerSink, error) {
	var pod string
	err := cp.WaitFor(ctx, 2*time.Minute, func() (bool, error) {
		var pods corev1.PodList
		sel := []string{}
		for k, v := range d.Spec.Selector.MatchLabels {
			sel = append(sel, k+"="+v)
		}
		out, err := cp.Kubectl(ctx, nil, "get", "pods", "-n", d.Namespace, "-l", strings.Join(sel, ","), "-o", "json")
		if err != nil {
			return false, err
		}
		if err := json.Unmarshal(out, &pods); err != nil {
			return false, err
		}
		for _, p := range pods.Items {
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
					pod = p.Namespace + "/" + p.Name
					return true, nil
				}
			}
		}
		return false, nil
	})
	if err != nil {
		desc, _ := cp.Kubectl(ctx, nil, "describe", "pods", "-n", d.Namespace)
		return nil, fmt.Errorf("eventlistener %s/%s: no ready sink Pod: %w\n%s", d.Namespace, d.Name, err, desc)
	}
	if err := cp.addHost(svc.Spec.ClusterIP, svc.Name+"."+svc.Namespace+".svc", svc.Name+"."+svc.Namespace+".svc.cluster.local"); err != nil {
		return nil, err
	}
	sink := &EventListenerSink{URL: url, namespace: d.Namespace, deployment: d.Name, cp: cp}
	// The Service proxy picks the endpoint up within a second; wait until a
	// request goes through.
	err = poll(ctx, 30*time.Second, 200*time.Millisecond, func() (bool, error) {
		client := &http.Client{Timeout: time.Second}
		resp, err := client.Get("http://" + hostPort(svc.Spec.ClusterIP, 8080) + "/live")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		return nil, fmt.Errorf("eventlistener %s/%s: Service %s not reachable: %w", d.Namespace, d.Name, svc.Name, err)
	}
	cp.logf("eventlistener %s ready (Pod %s)", d.Name, pod)
	return sink, nil
}
