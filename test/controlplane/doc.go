// Package controlplane runs a real Kubernetes control plane with Tekton
// Pipelines and Tekton Triggers installed, on a machine without a container
// runtime, for end-to-end tests.
//
// What runs: etcd and kube-apiserver (token authentication, RBAC), Tekton's
// and Triggers' controllers and webhooks, the Triggers core interceptors and,
// on demand, EventListener sinks. All are the upstream programs, built from
// pinned Go modules by test/tools/build.sh. Every component except the API
// server is started from the Deployment in its release's config/ folder: the
// same arguments and environment, a kubeconfig carrying a token the API server
// issued for the Deployment's ServiceAccount (so the release's RBAC is what
// authorizes it), and only the ports moved so that they do not collide. The
// rest of config/ (namespace, CRDs, ConfigMaps, RBAC, Services, webhook
// configurations, ClusterInterceptors) is applied with kubectl. Not run:
// Pipelines' events controller (CloudEvents) and remote resolvers
// (config/resolvers), which the suite does not use.
//
// With Options.Node it also runs a real node (node.go): Debian's containerd,
// runc and CNI bridge, kubelet, kube-scheduler and kube-controller-manager
// built from k8s.io/kubernetes, an OCI registry (Debian's docker-registry) on
// the node address NodeIP holding the pause image, stand-in step images
// (images.go, from test/tools/standins.sh), Tekton's helper images and the
// pipewright tool image (both built with pipewright's image builder), a
// default StorageClass with a local-volume provisioner (provisioner.go), a
// cluster DNS for Service names (dns.go), a Service proxy that sends
// ClusterIP traffic to ready Pods through DNAT rules as kube-proxy does
// (svcproxy.go), a git server and the GitHub API test server, and on demand
// a Gateway API implementation (StartTraefik, gateway.go: Traefik from
// test/tools/traefik with the Gateway API CRDs its go.mod names). Pods then really run: steps
// execute in containers, and `kubectl logs` reads what they printed. Inside
// the sandbox's mount namespace private tmpfs cover /run, /var/lib and
// /var/log (containerd's, CNI's and kubelet's fixed paths), and kubelet's
// sysctls are bind-mounted files, so the machine's own are never changed;
// its cgroup root is the one thing outside the namespaces, uniquely named and
// removed on Stop. Without a node, Pods stay Pending and CreateNamespace
// makes the "default" ServiceAccount itself.
//
// How Services are reached. kube-apiserver calls an admission or conversion
// webhook at the ClusterIP of the webhook's Service (its ClusterIP service
// resolver looks the Service up; it does not use DNS), and the EventListener
// sink calls a ClusterInterceptor at https://<service>.<namespace>.svc:<port>.
// Endpoints cannot point at loopback, so there is no kube-proxy to borrow.
// Instead the whole suite runs in private namespaces (see Isolate):
//
//   - a network namespace with only a loopback interface, in which the
//     Service CIDR (ServiceCIDR) is a local route on lo, so every ClusterIP the
//     API server hands out is a local address;
//   - the harness plays kube-proxy: for each Service whose backend it runs, it
//     listens on ClusterIP:port and forwards TCP to the local process's port
//     (TLS passes through untouched, so certificates are checked against the
//     Service's DNS name exactly as in a cluster);
//   - a mount namespace in which a private file is bind-mounted over
//     /etc/hosts, mapping <service>.<namespace>.svc to its ClusterIP; this is
//     the cluster DNS;
//   - a PID namespace whose first process is the test binary, so when it exits
//     for any reason, the kernel kills everything the suite started.
//
// The machine's own files, ports and processes are never touched; two suites
// can run at once. Running it needs root (or CAP_SYS_ADMIN), unshare(1) from
// util-linux and ip(8) from iproute2.
package controlplane
