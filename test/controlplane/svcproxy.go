package controlplane

import (
	"context"
	"fmt"
	"net"
	"os/exec"
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
// second it reads Services and EndpointSlices and makes each
// ClusterIP:port forward to a ready endpoint, the way kube-proxy does: a
// DNAT rule in the sandbox's network namespace sends ClusterIP:port to a
// proxy port on the node address. (Listening on the ClusterIP itself fails
// where a harness process listens on every address at that port, as
// Triggers' core interceptors do on 8443, and their listener would then get
// the Service's traffic.) Services whose backends the harness runs as
// processes are routed by route and left alone here.
type podServices struct {
	mu       sync.Mutex
	backends map[string]string // ClusterIP:port -> podIP:port
	served   map[string]bool
}

func (cp *ControlPlane) startPodServices(client kubernetes.Interface) func() {
	ps := &podServices{backends: map[string]string{}, served: map[string]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			ps.sync(ctx, cp, client)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
	return func() { cancel(); <-done }
}

func (ps *podServices) sync(ctx context.Context, cp *ControlPlane, client kubernetes.Interface) {
	// ResourceVersion "0": from the API server's watch cache, not etcd;
	// this loop runs all suite long on 2 cores.
	svcs, err := client.CoreV1().Services("").List(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return
	}
	slices, err := client.DiscoveryV1().EndpointSlices("").List(ctx, metav1.ListOptions{ResourceVersion: "0"})
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
			ps.backends[frontend] = backend
			mine := ps.served[frontend]
			ps.mu.Unlock()
			// Until a Pod is ready there is nothing to send traffic to (and
			// a Service of a Deployment the harness runs as a process never
			// has one).
			if mine || backend == "" || cp.proxy.serves(frontend) {
				continue
			}
			local, err := cp.proxy.forwardVia(frontend, hostPort(NodeIP, 0), func() string {
				ps.mu.Lock()
				defer ps.mu.Unlock()
				return ps.backends[frontend]
			})
			if err == nil {
				err = dnat(ip, sp.Port, local)
			}
			if err != nil {
				cp.logf("service %s/%s port %d: %v", s.Namespace, s.Name, sp.Port, err)
				continue
			}
			ps.mu.Lock()
			ps.served[frontend] = true
			ps.mu.Unlock()
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

// dnat sends TCP to ip:port, from Pods (PREROUTING) and from the node's own
// processes (OUTPUT), to local. The rules live in the sandbox's network
// namespace and end with it.
func dnat(ip string, port int32, local string) error {
	bin, err := exec.LookPath("iptables")
	if err != nil {
		bin = "/usr/sbin/iptables" // root's tools, when PATH lacks sbin
	}
	for _, chain := range []string{"PREROUTING", "OUTPUT"} {
		out, err := exec.Command(bin, "-w", "-t", "nat", "-A", chain, "-d", ip+"/32", "-p", "tcp",
			"--dport", strconv.Itoa(int(port)), "-j", "DNAT", "--to-destination", local).CombinedOutput()
		if err != nil {
			return fmt.Errorf("iptables DNAT %s:%d -> %s in %s: %w: %s", ip, port, local, chain, err, out)
		}
	}
	return nil
}
