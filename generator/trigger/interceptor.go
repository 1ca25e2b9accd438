package trigger

import (
	"strconv"

	"github.com/pipewright/pipewright/generator/catalog"
	"github.com/pipewright/pipewright/generator/config"
	"github.com/pipewright/pipewright/pkg/interceptor"
	triggersv1alpha1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// The ChatOps trigger (/retest, /ok-to-test) calls the project's own
// pipewright ClusterInterceptor: `pipewright interceptor serve` from the
// tool image (tools.image), in a Deployment behind a Service in the app
// namespace. Triggers calls it over HTTPS, trusting the CA in the
// ClusterInterceptor's caBundle: the interceptor makes a CA and a serving
// certificate on first start, keeps them in a Secret of its own
// (InterceptorCASecret) so that a restarted Pod is trusted at once, and
// writes the CA into the caBundle itself (get and patch on that one
// ClusterInterceptor, nothing else). Without tools.image there is nothing
// to run it from, and the project gets no ChatOps trigger.

// HasChatOps reports whether the project gets the ChatOps trigger and its
// interceptor: it runs from the pipewright tool image.
func HasChatOps(c *config.Config) bool { return c.Tools.Image != "" }

// InterceptorPort is where the interceptor serves HTTPS, in its container
// and on its Service.
const InterceptorPort = 8443

// KeepRuns is how many finished runs of each kind the interceptor keeps.
const KeepRuns = 20

// InterceptorTokenDir is where the interceptor's container has the GitHub
// token Secret mounted (file token).
const InterceptorTokenDir = "/etc/pipewright/github"

// InterceptorName is the project's ClusterInterceptor. It is
// cluster-scoped, so its name carries the namespace: NAMESPACE.APP. Both
// are DNS labels (no dots), so no two projects share it.
func InterceptorName(c *config.Config) string { return c.App.Namespace + "." + c.App.Name }

// InterceptorService names the interceptor's Service, Deployment and
// ServiceAccount in the app namespace.
func InterceptorService(c *config.Config) string { return c.App.Name + "-interceptor" }

// InterceptorCASecret is the Secret where the interceptor keeps its CA and
// serving pair. It creates it itself (nothing generated holds it, so
// kubectl apply never empties it).
func InterceptorCASecret(c *config.Config) string { return InterceptorService(c) + "-tls" }

// EventListenerPodLabels are labels Triggers (v0.37.0, GenerateLabels with
// its default static resource labels) puts on the Pods of EventListener
// name: the only callers the interceptor's NetworkPolicy admits.
func EventListenerPodLabels(name string) map[string]string {
	return map[string]string{"eventlistener": name, "app.kubernetes.io/managed-by": "EventListener"}
}

// ListenerName is the project's EventListener.
func ListenerName(c *config.Config) string { return c.App.Name + "-listener" }

// interceptorClusterRole names the ClusterRole (and its binding) that lets
// the interceptor publish its CA.
func interceptorClusterRole(c *config.Config) string { return InterceptorName(c) + "-interceptor" }

// InterceptorArgs are the arguments of `pipewright` in the interceptor's
// container.
func InterceptorArgs(c *config.Config) []string {
	return []string{
		"interceptor", "serve",
		"--listen=:" + strconv.Itoa(InterceptorPort),
		"--self-signed-for=" + c.App.Namespace + "/" + InterceptorService(c),
		"--cluster-interceptor=" + InterceptorName(c),
		"--ca-secret=" + InterceptorCASecret(c),
		// Its Pods start again once the CA is published, so deliveries
		// right after an install do not fail TLS for a minute.
		"--event-listener=" + ListenerName(c),
		"--token-file=" + InterceptorTokenDir + "/token",
		"--api-url=" + c.GitHub.APIURL,
		// It answers for this repository only, for triggers in its own
		// namespace, whose PipelineRuns it reads for replay checks.
		"--repository=" + c.GitHub.Repository,
		"--namespace=" + c.App.Namespace,
		// Finished runs kept per kind; older ones, and their volume
		// claims, are deleted.
		"--keep-runs=" + strconv.Itoa(KeepRuns),
	}
}

func (b builder) interceptorLabels() map[string]string {
	l := b.meta("").Labels
	l["app.kubernetes.io/name"] = InterceptorService(b.c)
	l["app.kubernetes.io/component"] = "interceptor"
	return l
}

// interceptor is everything that installs the ChatOps interceptor.
func (b builder) interceptor() []Object {
	c := b.c
	name := InterceptorService(c)
	group := "rbac.authorization.k8s.io"
	meta := func(n string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: n, Labels: b.interceptorLabels()} }
	port := int32(InterceptorPort)
	ci := &triggersv1alpha1.ClusterInterceptor{
		TypeMeta: metav1.TypeMeta{APIVersion: "triggers.tekton.dev/v1alpha1", Kind: "ClusterInterceptor"},
		// No server/type label and no caBundle: the interceptor sets both
		// at once when it has started (an EventListener waits for, and
		// then fails on, a server/type: https ClusterInterceptor without
		// a caBundle), and kubectl apply leaves them alone.
		ObjectMeta: meta(InterceptorName(c)),
		Spec: triggersv1alpha1.ClusterInterceptorSpec{ClientConfig: triggersv1alpha1.ClientConfig{
			Service: &triggersv1alpha1.ServiceReference{Name: name, Namespace: c.App.Namespace, Path: "/", Port: &port},
		}},
	}
	account := &corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}, ObjectMeta: meta(name)}
	// Replay checks list the namespace's PipelineRuns by label; a new run
	// cancels (patch) the older ones it replaces and prunes (delete) the
	// oldest finished ones. Its CA Secret: read and renewed by name;
	// create cannot be limited by name (the object does not exist yet).
	role := &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: group + "/v1", Kind: "Role"},
		ObjectMeta: meta(name),
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"tekton.dev"}, Resources: []string{"pipelineruns"}, Verbs: []string{"list", "patch", "delete"}},
			{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{InterceptorCASecret(c)}, Verbs: []string{"get", "update"}},
			{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"create"}},
			// To mark its EventListener's Pod template with the CA's digest.
			{APIGroups: []string{"triggers.tekton.dev"}, Resources: []string{"eventlisteners"}, ResourceNames: []string{ListenerName(c)}, Verbs: []string{"get", "patch"}},
		},
	}
	rb := &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: group + "/v1", Kind: "RoleBinding"},
		ObjectMeta: meta(name),
		RoleRef:    rbacv1.RoleRef{APIGroup: group, Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: c.App.Namespace}},
	}
	cr := &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: group + "/v1", Kind: "ClusterRole"},
		ObjectMeta: meta(interceptorClusterRole(c)),
		Rules: []rbacv1.PolicyRule{{
			APIGroups:     []string{"triggers.tekton.dev"},
			Resources:     []string{"clusterinterceptors"},
			ResourceNames: []string{InterceptorName(c)},
			Verbs:         []string{"get", "patch"},
		}},
	}
	crb := &rbacv1.ClusterRoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: group + "/v1", Kind: "ClusterRoleBinding"},
		ObjectMeta: meta(interceptorClusterRole(c)),
		RoleRef:    rbacv1.RoleRef{APIGroup: group, Kind: "ClusterRole", Name: interceptorClusterRole(c)},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: c.App.Namespace}},
	}
	selector := map[string]string{"app.kubernetes.io/name": name, "app.kubernetes.io/component": "interceptor"}
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta(name),
		Spec: corev1.ServiceSpec{
			Selector: selector,
			Ports:    []corev1.ServicePort{{Name: "https", Port: port, TargetPort: intstr.FromString("https"), Protocol: corev1.ProtocolTCP}},
		},
	}
	uid := int64(catalog.NonRootUID)
	deploy := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta(name),
		Spec: appsv1.DeploymentSpec{
			// One replica: the caBundle holds one CA. (Pods share the
			// kept CA, so a rolling update's second Pod is trusted too.)
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: b.interceptorLabels()},
				Spec: corev1.PodSpec{
					ServiceAccountName: name,
					// Its token is what writes the caBundle.
					AutomountServiceAccountToken: ptr.To(true),
					EnableServiceLinks:           ptr.To(false),
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot:   ptr.To(true),
						RunAsUser:      &uid,
						RunAsGroup:     &uid,
						FSGroup:        &uid, // the token file is group-readable
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{{
						Name:    "interceptor",
						Image:   c.Tools.Image,
						Command: []string{catalog.ToolBinary},
						Args:    InterceptorArgs(c),
						Ports:   []corev1.ContainerPort{{Name: "https", ContainerPort: port, Protocol: corev1.ProtocolTCP}},
						// Ready once the CA is in the caBundle: until then
						// Triggers could not call it anyway.
						ReadinessProbe: &corev1.Probe{
							ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
								Path: interceptor.ReadyPath, Port: intstr.FromString("https"), Scheme: corev1.URISchemeHTTPS,
							}},
							PeriodSeconds: 5,
						},
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
							Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")},
						},
						SecurityContext: &corev1.SecurityContext{
							AllowPrivilegeEscalation: ptr.To(false),
							ReadOnlyRootFilesystem:   ptr.To(true),
							RunAsNonRoot:             ptr.To(true),
							Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
						},
						VolumeMounts: []corev1.VolumeMount{{Name: "github-token", MountPath: InterceptorTokenDir, ReadOnly: true}},
					}},
					Volumes: []corev1.Volume{{
						Name: "github-token",
						VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
							SecretName:  c.GitHub.TokenSecret,
							Items:       []corev1.KeyToPath{{Key: "token", Path: "token"}},
							DefaultMode: ptr.To[int32](0o440),
						}},
					}},
				},
			},
		},
	}
	// Only the project's EventListener Pods may call the interceptor, and
	// only on its TLS port: not the PR runs in the same namespace (fork
	// code), nor anything else in the cluster. Enforced only by a CNI that
	// implements NetworkPolicy.
	tcp := corev1.ProtocolTCP
	tlsPort := intstr.FromInt32(port)
	np := &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: meta(name),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: selector},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &tlsPort}},
				From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: EventListenerPodLabels(ListenerName(c))}}},
			}},
		},
	}
	return []Object{
		{File: "triggers/interceptor/clusterinterceptor.yaml", Obj: ci},
		{File: "triggers/interceptor/clusterrole.yaml", Obj: cr},
		{File: "triggers/interceptor/clusterrolebinding.yaml", Obj: crb},
		{File: "triggers/interceptor/deployment.yaml", Obj: deploy},
		{File: "triggers/interceptor/networkpolicy.yaml", Obj: np},
		{File: "triggers/interceptor/role.yaml", Obj: role},
		{File: "triggers/interceptor/rolebinding.yaml", Obj: rb},
		{File: "triggers/interceptor/service.yaml", Obj: svc},
		{File: "triggers/interceptor/serviceaccount.yaml", Obj: account},
	}
}
