package controlplane

import (
	"context"
	"net"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// podServices plays kube-proxy for Services whose endpoints are Pods on the
// node (an EventListener, the ChatOps interceptor, a deployed app): every
// half second it reads Services and EndpointSlices and makes each
// ClusterIP:port forward to a ready endpoint. Services whose backends the
// harness runs as processes are routed by route and left alone here.
type podServices struct {
	mu       sync.Mutex
	backends map[string]string // ClusterIP:port -> podIP:port
}

func (cp *ControlPlane) startPodServices(client kubernetes.Interface) func() {
	ps := &podServices{backends: map[string]string{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			ps.sync(ctx, cp, client)
			select {
			case <-ctx.Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	return func() { cancel(); <-done }
}

func (ps *podServices) sync(ctx context.Context, cp *ControlPlane, client kubernetes.Interface) {
	svcs, err := client.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	slices, err := client.DiscoveryV1().EndpointSlices("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	byService := map[string][]discoveryv1.EndpointSlice{}
	for _, sl := range slices.Items {
		key := sl.Namespace + "/" + sl.Labels[discoveryv1.LabelServiceName]
		byService[key] = append(byService[key], sl)
	}
	for _, s := range svcs.Items {
		ip := s.Spec.ClusterIP
		if ip == "" || ip == corev1.ClusterIPNone || len(s.Spec.Selector) == 0 {
			continue
		}
		for _, sp := range s.Spec.Ports {
			frontend := hostPort(ip, int(sp.Port))
			backend := readyEndpoint(byService[s.Namespace+"/"+s.Name], sp.Name)
			ps.mu.Lock()
			_, mine := ps.backends[frontend]
			ps.backends[frontend] = backend
			ps.mu.Unlock()
			if mine || cp.proxy.serves(frontend) {
				continue
			}
			_ = cp.proxy.forwardTo(frontend, func() string {
				ps.mu.Lock()
				defer ps.mu.Unlock()
				return ps.backends[frontend]
			})
		}
	}
}

// readyEndpoint picks the first ready endpoint's address for the port named
// name ("" for an unnamed port).
func readyEndpoint(slices []discoveryv1.EndpointSlice, name string) string {
	for _, sl := range slices {
		var port int32
		for _, p := range sl.Ports {
			if p.Port != nil && (p.Name == nil && name == "" || p.Name != nil && *p.Name == name) {
				port = *p.Port
			}
		}
		if port == 0 {
			continue
		}
		for _, e := range sl.Endpoints {
			if e.Conditions.Ready != nil && !*e.Conditions.Ready || len(e.Addresses) == 0 {
				continue
			}
			return net.JoinHostPort(e.Addresses[0], strconv.Itoa(int(port)))
		}
	}
	return ""
}
