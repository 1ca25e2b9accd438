package generator_test

// Tests for the trust boundaries of the generated YAML: pull-request runs
// and release runs use separate service accounts, and the ChatOps
// interceptor is installed with what it needs and nothing more.

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/builtin"
	"github.com/pipewright/pipewright/generator/catalog"
	"github.com/pipewright/pipewright/generator/config"
	"github.com/pipewright/pipewright/generator/generatortest"
	"github.com/pipewright/pipewright/generator/render"
	"github.com/pipewright/pipewright/generator/trigger"
	"github.com/pipewright/pipewright/pkg/interceptor"
	"github.com/pipewright/pipewright/pkg/tekton"
	triggersv1alpha1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1alpha1"
	triggersv1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// objectsOf decodes every generated object strictly into its Go type: the
// Kubernetes kinds here, Tekton and Triggers kinds with tekton.Decode. Keys
// are kind/name.
func objectsOf(t *testing.T, tree render.Tree) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, p := range tree.Paths() {
		if !strings.HasSuffix(p, ".yaml") || p == "kustomization.yaml" || p == "namespace.yaml" {
			continue
		}
		objs, err := tekton.Decode(p, tree[p])
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			obj := o.Obj
			if obj == nil {
				var typed any
				switch o.Kind {
				case "ServiceAccount":
					typed = &corev1.ServiceAccount{}
				case "Service":
					typed = &corev1.Service{}
				case "Deployment":
					typed = &appsv1.Deployment{}
				case "Role":
					typed = &rbacv1.Role{}
				case "RoleBinding":
					typed = &rbacv1.RoleBinding{}
				case "ClusterRole":
					typed = &rbacv1.ClusterRole{}
				case "ClusterRoleBinding":
					typed = &rbacv1.ClusterRoleBinding{}
				case "NetworkPolicy":
					typed = &networkingv1.NetworkPolicy{}
				default:
					t.Fatalf("%s: no Go type for kind %s", p, o.Kind)
				}
				if err := yaml.UnmarshalStrict(tekton.Split(tree[p])[o.Doc].Text, typed); err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				obj = typed
			}
			key := o.Kind + "/" + o.Name
			if _, dup := out[key]; dup {
				t.Fatalf("%s generated twice", key)
			}
			out[key] = obj
		}
	}
	return out
}

// appOf is the app a generated tree is for (the kustomization's label).
func appOf(t *testing.T, tree render.Tree) string {
	t.Helper()
	var k struct {
		Labels []struct {
			Pairs map[string]string `json:"pairs"`
		} `json:"labels"`
	}
	if err := yaml.Unmarshal(tree["kustomization.yaml"], &k); err != nil || len(k.Labels) == 0 {
		t.Fatalf("kustomization labels: %v", err)
	}
	return k.Labels[0].Pairs["app.kubernetes.io/part-of"]
}

// subjects lists the service accounts every (Cluster)RoleBinding binds.
func subjects(objs map[string]any) map[string][]string {
	out := map[string][]string{}
	for key, o := range objs {
		var ss []rbacv1.Subject
		switch b := o.(type) {
		case *rbacv1.RoleBinding:
			ss = b.Subjects
		case *rbacv1.ClusterRoleBinding:
			ss = b.Subjects
		}
		for _, s := range ss {
			if s.Kind == "ServiceAccount" {
				out[s.Name] = append(out[s.Name], key)
			}
		}
	}
	return out
}

// Pull-request runs (and, through the ChatOps trigger, fork code after
// /ok-to-test) and release runs use different service accounts: the
// pull-request one is bound to nothing, names no secrets and mounts no
// token; the release one is bound to the deployer Role. No pull-request
// run or template names the release account.
func TestPullRequestAndReleaseAccounts(t *testing.T) {
	for name, tree := range variants(t) {
		t.Run(name, func(t *testing.T) {
			app := appOf(t, tree)
			prSA, releaseSA := app+"-pull-request", app+"-release"
			objs := objectsOf(t, tree)
			bound := subjects(objs)

			pr, ok := objs["ServiceAccount/"+prSA].(*corev1.ServiceAccount)
			if !ok {
				t.Fatalf("no ServiceAccount %s", prSA)
			}
			if a := pr.AutomountServiceAccountToken; a == nil || *a {
				t.Errorf("ServiceAccount %s: automountServiceAccountToken %v, want false", prSA, a)
			}
			if len(pr.Secrets) > 0 || len(pr.ImagePullSecrets) > 0 {
				t.Errorf("ServiceAccount %s names secrets %v %v", prSA, pr.Secrets, pr.ImagePullSecrets)
			}
			if len(bound[prSA]) > 0 {
				t.Errorf("ServiceAccount %s is bound by %v, want no binding", prSA, bound[prSA])
			}

			if _, ok := objs["ServiceAccount/"+releaseSA].(*corev1.ServiceAccount); !ok {
				t.Fatalf("no ServiceAccount %s", releaseSA)
			}
			deploys := !strings.Contains(name, "no deploy")
			if rb, ok := objs["RoleBinding/"+app+"-deployer"].(*rbacv1.RoleBinding); ok != deploys {
				t.Errorf("deployer RoleBinding generated: %v, want %v", ok, deploys)
			} else if ok && (len(rb.Subjects) != 1 || rb.Subjects[0].Name != releaseSA || rb.RoleRef.Name != app+"-deployer") {
				t.Errorf("deployer RoleBinding binds %+v to %s, want only %s", rb.Subjects, rb.RoleRef.Name, releaseSA)
			}
			if _, ok := objs["ServiceAccount/"+app+"-pipeline"]; ok {
				t.Errorf("the shared %s-pipeline account is still generated", app)
			}

			for where, run := range runs(t, tree) {
				wantSA, wantToken := releaseSA, true
				if strings.Contains(where, "pull-request") {
					wantSA, wantToken = prSA, false
				}
				if sa := run.Spec.TaskRunTemplate.ServiceAccountName; sa != wantSA {
					t.Errorf("%s: serviceAccountName %s, want %s", where, sa, wantSA)
				}
				pt := run.Spec.TaskRunTemplate.PodTemplate
				if token := pt == nil || pt.AutomountServiceAccountToken == nil || *pt.AutomountServiceAccountToken; token != wantToken {
					t.Errorf("%s: mounts the service-account token: %v, want %v", where, token, wantToken)
				}
			}
			for _, f := range []string{"runs/pull-request.yaml", "triggers/template-pull-request.yaml", "triggers/binding-chatops.yaml"} {
				if strings.Contains(string(tree[f]), "serviceAccountName: "+releaseSA) {
					t.Errorf("%s names the release account %s", f, releaseSA)
				}
			}
			readme := string(tree["README.md"])
			for _, want := range []string{"`" + prSA + "`: pull-request runs. It has no RoleBinding", "`" + releaseSA + "`: release runs."} {
				if !strings.Contains(readme, want) {
					t.Errorf("README lacks %q", want)
				}
			}
		})
	}
}

// chatOpsProject generates the built-in example in namespace ns as app,
// with a tool image: ChatOps on.
func chatOpsProject(t *testing.T, ns, app string) (*config.Config, render.Tree) {
	t.Helper()
	src := strings.NewReplacer("  name: hello-world\n", "  name: "+app+"\n", "  namespace: default\n", "  namespace: "+ns+"\n").Replace(string(builtin.Config))
	cfg, err := config.Parse(builtin.File, []byte(src+"tools:\n  image: "+generatortest.ToolImage(t)+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	tree, err := generator.Project(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Config, tree
}

// With tools.image the ChatOps trigger calls the project's own
// ClusterInterceptor, and the kustomization installs what serves it: a
// Deployment of the tool image (by digest) serving HTTPS on 8443, its
// Service, and an account that may get and patch that ClusterInterceptor
// only.
func TestChatOpsInterceptorIsInstalled(t *testing.T) {
	c, tree := chatOpsProject(t, "ci", "api")
	objs := objectsOf(t, tree)
	name, svcName := trigger.InterceptorName(c), trigger.InterceptorService(c)
	if name != "ci.api" || svcName != "api-interceptor" {
		t.Fatalf("names %s, %s", name, svcName)
	}

	el := objs["EventListener/api-listener"].(*triggersv1.EventListener)
	var refs []string
	for _, tr := range el.Spec.Triggers {
		for _, ic := range tr.Interceptors {
			if ic.Ref.Name != "github" && ic.Ref.Name != "cel" {
				refs = append(refs, tr.Name+" → "+string(ic.Ref.Kind)+"/"+ic.Ref.Name)
			}
		}
	}
	// Every trigger ends with it: replay checks, the branch head of a push.
	if want := []string{"pull-request → ClusterInterceptor/" + name, "chatops → ClusterInterceptor/" + name, "release → ClusterInterceptor/" + name}; !reflect.DeepEqual(refs, want) {
		t.Errorf("EventListener calls %v, want %v", refs, want)
	}

	ci, ok := objs["ClusterInterceptor/"+name].(*triggersv1alpha1.ClusterInterceptor)
	if !ok {
		t.Fatalf("no ClusterInterceptor %s", name)
	}
	if s := ci.Spec.ClientConfig.Service; s == nil || s.Name != svcName || s.Namespace != "ci" || s.Port == nil || *s.Port != 8443 || s.Path != "/" {
		t.Errorf("ClusterInterceptor points at %+v, want Service %s in ci, port 8443, path /", s, svcName)
	}
	// The interceptor sets both when it has started; apply must not.
	if len(ci.Spec.ClientConfig.CaBundle) > 0 || ci.Labels[interceptor.ServerTypeLabel] != "" {
		t.Errorf("ClusterInterceptor ships a caBundle or a %s label: %+v", interceptor.ServerTypeLabel, ci)
	}

	d, ok := objs["Deployment/"+svcName].(*appsv1.Deployment)
	if !ok {
		t.Fatalf("no Deployment %s", svcName)
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	ctr := pod.Containers[0]
	if tool := generatortest.ToolImage(t); ctr.Image != tool || !strings.Contains(ctr.Image, "@sha256:") {
		t.Errorf("image %s, want the tool image %s by digest", ctr.Image, tool)
	}
	if !reflect.DeepEqual(ctr.Command, []string{catalog.ToolBinary}) {
		t.Errorf("command %v", ctr.Command)
	}
	args := strings.Join(ctr.Args, " ")
	for _, want := range []string{"interceptor serve", "--listen=:8443", "--self-signed-for=ci/" + svcName, "--cluster-interceptor=" + name, "--ca-secret=" + svcName + "-tls", "--event-listener=api-listener", "--token-file=" + trigger.InterceptorTokenDir + "/token", "--api-url=https://api.github.com"} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %q", args, want)
		}
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("replicas %v: one process, one CA", d.Spec.Replicas)
	}
	if pod.ServiceAccountName != svcName {
		t.Errorf("runs as %s", pod.ServiceAccountName)
	}
	sc := ctr.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("container securityContext %+v", sc)
	}
	if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil {
		t.Errorf("pod securityContext %+v", psc)
	}
	if ctr.Resources.Requests.Cpu().IsZero() || ctr.Resources.Requests.Memory().IsZero() {
		t.Errorf("no resource requests: %+v", ctr.Resources)
	}
	if p := ctr.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Scheme != corev1.URISchemeHTTPS || p.HTTPGet.Path != interceptor.ReadyPath {
		t.Errorf("readiness probe %+v", p)
	}
	if len(ctr.Ports) != 1 || ctr.Ports[0].ContainerPort != 8443 {
		t.Errorf("ports %+v", ctr.Ports)
	}
	// The GitHub token: the token Secret, a read-only file.
	if len(pod.Volumes) != 1 || pod.Volumes[0].Secret == nil || pod.Volumes[0].Secret.SecretName != c.GitHub.TokenSecret ||
		len(ctr.VolumeMounts) != 1 || !ctr.VolumeMounts[0].ReadOnly || ctr.VolumeMounts[0].MountPath != trigger.InterceptorTokenDir || len(ctr.Env) > 0 || len(ctr.EnvFrom) > 0 {
		t.Errorf("token: volumes %+v, mounts %+v, env %+v", pod.Volumes, ctr.VolumeMounts, ctr.Env)
	}

	svc, ok := objs["Service/"+svcName].(*corev1.Service)
	if !ok {
		t.Fatalf("no Service %s", svcName)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 8443 || svc.Spec.Ports[0].TargetPort.String() != "https" {
		t.Errorf("Service ports %+v", svc.Spec.Ports)
	}
	for k, v := range svc.Spec.Selector {
		if d.Spec.Template.Labels[k] != v || d.Spec.Selector.MatchLabels[k] != v {
			t.Errorf("Service selects %s=%s, which the Deployment's Pods do not carry", k, v)
		}
	}

	// RBAC: get and patch of that one ClusterInterceptor, and listing the
	// namespace's PipelineRuns (replay checks), bound to the interceptor's
	// account only.
	var crs []*rbacv1.ClusterRole
	for _, o := range objs {
		if cr, ok := o.(*rbacv1.ClusterRole); ok && slices.ContainsFunc(cr.Rules, func(r rbacv1.PolicyRule) bool {
			return slices.Contains(r.Resources, "clusterinterceptors") && slices.Contains(r.Verbs, "patch")
		}) {
			crs = append(crs, cr)
		}
	}
	if len(crs) != 1 {
		t.Fatalf("%d ClusterRoles may patch ClusterInterceptors, want 1", len(crs))
	}
	want := []rbacv1.PolicyRule{{APIGroups: []string{"triggers.tekton.dev"}, Resources: []string{"clusterinterceptors"}, ResourceNames: []string{name}, Verbs: []string{"get", "patch"}}}
	if !reflect.DeepEqual(crs[0].Rules, want) {
		t.Errorf("ClusterRole %s rules %+v, want %+v", crs[0].Name, crs[0].Rules, want)
	}
	if got := slices.Sorted(slices.Values(subjects(objs)[svcName])); !reflect.DeepEqual(got, []string{"ClusterRoleBinding/" + crs[0].Name, "RoleBinding/" + svcName}) {
		t.Errorf("%s is bound by %v, want only RoleBinding/%s and ClusterRoleBinding/%s", svcName, got, svcName, crs[0].Name)
	}
	role := objs["Role/"+svcName].(*rbacv1.Role)
	// Its CA Secret: get and update by name; create cannot be named. Its
	// EventListener, to restart its Pods once the CA is published: by name.
	if want := []rbacv1.PolicyRule{
		{APIGroups: []string{"tekton.dev"}, Resources: []string{"pipelineruns"}, Verbs: []string{"list", "patch", "delete"}},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{svcName + "-tls"}, Verbs: []string{"get", "update"}},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"create"}},
		{APIGroups: []string{"triggers.tekton.dev"}, Resources: []string{"eventlisteners"}, ResourceNames: []string{"api-listener"}, Verbs: []string{"get", "patch"}},
	}; !reflect.DeepEqual(role.Rules, want) {
		t.Errorf("Role %s rules %+v, want %+v", svcName, role.Rules, want)
	}
	if crb := objs["ClusterRoleBinding/"+crs[0].Name].(*rbacv1.ClusterRoleBinding); crb.RoleRef.Name != crs[0].Name || crb.Subjects[0].Namespace != "ci" {
		t.Errorf("ClusterRoleBinding %+v", crb)
	}

	for _, f := range tree.Paths() {
		if strings.HasPrefix(f, "triggers/") && strings.HasSuffix(f, ".yaml") && !strings.Contains(string(tree["kustomization.yaml"]), "- "+f+"\n") {
			t.Errorf("kustomization does not list %s", f)
		}
	}
	readme := string(tree["README.md"])
	for _, want := range []string{"ClusterInterceptor `ci.api`", "needs cluster-admin", "`caBundle`", "get and patch that one ClusterInterceptor", "Secret `" + svcName + "-tls`", "redeliver them from GitHub's UI"} {
		if !strings.Contains(readme, want) {
			t.Errorf("README lacks %q", want)
		}
	}
}

// kubectl apply -k installs the interceptor with the rest, cluster-scoped
// objects without a namespace (kustomize does not know ClusterInterceptor
// is one), namespaced ones in the app namespace.
func TestChatOpsKustomization(t *testing.T) {
	_, tree := chatOpsProject(t, "ci", "api")
	dir := t.TempDir()
	if err := tree.Write(dir); err != nil {
		t.Fatal(err)
	}
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, r := range res.Resources() {
		kinds[r.GetKind()]++
		want := "ci"
		switch r.GetKind() {
		case "ClusterInterceptor", "ClusterRole", "ClusterRoleBinding":
			want = ""
		}
		if r.GetName() == "api-deployer" {
			want = "ci" // deploy.namespace defaults to the app's
		}
		if r.GetNamespace() != want {
			t.Errorf("%s/%s: namespace %q, want %q", r.GetKind(), r.GetName(), r.GetNamespace(), want)
		}
	}
	want := map[string]int{"Task": 6, "Pipeline": 2, "ServiceAccount": 4, "Role": 3, "RoleBinding": 3,
		"ClusterRole": 2, "ClusterRoleBinding": 2, "EventListener": 1, "TriggerBinding": 3, "TriggerTemplate": 2,
		"ClusterInterceptor": 1, "Deployment": 1, "Service": 1, "NetworkPolicy": 1}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("kustomize rendered %v, want %v", kinds, want)
	}
}

// The ClusterInterceptor is cluster-scoped: its name differs for every
// namespace and app, even where joining them with a dash would not.
func TestInterceptorNamesAreUnique(t *testing.T) {
	seen := map[string]string{}
	for _, p := range [][2]string{{"default", "api"}, {"ci", "api"}, {"default", "web"}, {"a-b", "c"}, {"a", "b-c"}} {
		c, tree := chatOpsProject(t, p[0], p[1])
		name := trigger.InterceptorName(c)
		where := p[0] + "/" + p[1]
		if other, dup := seen[name]; dup {
			t.Errorf("%s and %s share ClusterInterceptor %s", other, where, name)
		}
		seen[name] = where
		objs := objectsOf(t, tree)
		for key, o := range objs {
			if ci, ok := o.(*triggersv1alpha1.ClusterInterceptor); ok && ci.Name != name {
				t.Errorf("%s: %s, want ClusterInterceptor %s", where, key, name)
			}
			if cr, ok := o.(*rbacv1.ClusterRole); ok && !strings.HasPrefix(cr.Name, p[0]) {
				t.Errorf("%s: ClusterRole %s does not carry the namespace", where, cr.Name)
			}
		}
	}
}

// Without tools.image there is no interceptor to run: no ChatOps trigger,
// no interceptor objects, and the README says why and how to turn it on.
func TestNoChatOpsWithoutToolImage(t *testing.T) {
	trees := variants(t)
	for _, ex := range examples {
		tree := trees[ex]
		for _, f := range tree.Paths() {
			if strings.Contains(f, "interceptor") || strings.Contains(f, "chatops") {
				t.Errorf("%s: %s generated without tools.image", ex, f)
			}
		}
		for _, o := range objectsOf(t, tree) {
			if el, ok := o.(*triggersv1.EventListener); ok {
				for _, tr := range el.Spec.Triggers {
					if tr.Name == trigger.ChatOps {
						t.Errorf("%s: EventListener has a ChatOps trigger", ex)
					}
				}
			}
		}
		if readme := string(tree["README.md"]); !strings.Contains(readme, "## ChatOps\n\nOff: ") || !strings.Contains(readme, "Set `tools.image`") {
			t.Errorf("%s: README does not say ChatOps is off and why", ex)
		}
	}
}

// triggersEventListenerPodLabels are the labels Tekton Triggers v0.37.0
// puts on an EventListener's Pods: MakeDeployment
// (pkg/reconciler/eventlistener/resources/deployment.go) sets
// kmeta.UnionMaps(FilterLabels(el.Labels), GenerateLabels(el.Name,
// c.StaticResourceLabels)); GenerateLabels (meta.go) adds "eventlistener":
// el.Name to the static labels, DefaultStaticResourceLabels (config.go)
// unless the controller is configured otherwise. The resources package
// cannot be imported here (it needs knative.dev/eventing, which the module
// proxy does not serve), so this follows its code; the node test checks
// the selector against a real EventListener Pod.
func triggersEventListenerPodLabels(el *triggersv1.EventListener) map[string]string {
	out := map[string]string{}
	for k, v := range el.Labels {
		out[k] = v
	}
	for k, v := range map[string]string{"app.kubernetes.io/managed-by": "EventListener", "app.kubernetes.io/part-of": "Triggers"} {
		out[k] = v
	}
	out["eventlistener"] = el.Name
	return out
}

// The interceptor's NetworkPolicy: it selects the interceptor's Pods only,
// and lets in only the project's EventListener Pods (as Triggers labels
// them), on the TLS port; not its own kind, not the PR runs' Pods (fork
// code in the same namespace), not another project's EventListener.
func TestInterceptorNetworkPolicy(t *testing.T) {
	_, tree := chatOpsProject(t, "ci", "api")
	objs := objectsOf(t, tree)
	np, ok := objs["NetworkPolicy/api-interceptor"].(*networkingv1.NetworkPolicy)
	if !ok {
		t.Fatal("no NetworkPolicy api-interceptor")
	}
	d := objs["Deployment/api-interceptor"].(*appsv1.Deployment)
	el := objs["EventListener/api-listener"].(*triggersv1.EventListener)
	selector := func(ls *metav1.LabelSelector) labels.Selector {
		t.Helper()
		sel, err := metav1.LabelSelectorAsSelector(ls)
		if err != nil {
			t.Fatal(err)
		}
		return sel
	}
	if !selector(&np.Spec.PodSelector).Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("the policy does not select the interceptor's Pods (%v)", d.Spec.Template.Labels)
	}
	elPod := triggersEventListenerPodLabels(el)
	if selector(&np.Spec.PodSelector).Matches(labels.Set(elPod)) {
		t.Error("the policy selects the EventListener's Pods too")
	}
	if !reflect.DeepEqual(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) || len(np.Spec.Ingress) != 1 {
		t.Fatalf("policy types %v, %d ingress rules: want Ingress, one rule", np.Spec.PolicyTypes, len(np.Spec.Ingress))
	}
	rule := np.Spec.Ingress[0]
	ctrPort := d.Spec.Template.Spec.Containers[0].Ports[0]
	if len(rule.Ports) != 1 || rule.Ports[0].Port == nil || rule.Ports[0].Port.IntValue() != int(ctrPort.ContainerPort) ||
		rule.Ports[0].Protocol == nil || *rule.Ports[0].Protocol != corev1.ProtocolTCP || ctrPort.Name != "https" {
		t.Errorf("ingress ports %+v, want the TLS port %d/TCP only", rule.Ports, ctrPort.ContainerPort)
	}
	if len(rule.From) != 1 || rule.From[0].PodSelector == nil || rule.From[0].NamespaceSelector != nil || rule.From[0].IPBlock != nil {
		t.Fatalf("ingress from %+v, want one Pod selector in the namespace", rule.From)
	}
	from := selector(rule.From[0].PodSelector)
	if !from.Matches(labels.Set(elPod)) {
		t.Errorf("the EventListener's Pods (%v) may not call the interceptor (from %v)", elPod, from)
	}
	// PR run Pods carry the run's labels (Tekton copies them) and Tekton's.
	tt := objs["TriggerTemplate/api-pull-request"].(*triggersv1.TriggerTemplate)
	var run struct {
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	if err := yaml.Unmarshal(tt.Spec.ResourceTemplates[0].Raw, &run); err != nil {
		t.Fatal(err)
	}
	prPod := map[string]string{"tekton.dev/pipelineRun": "x", "tekton.dev/taskRun": "y", "app.kubernetes.io/managed-by": "tekton-pipelines"}
	for k, v := range run.Metadata.Labels {
		prPod[k] = v
	}
	other := triggersEventListenerPodLabels(el)
	other["eventlistener"] = "web-listener"
	for what, l := range map[string]map[string]string{"a PR run's Pod": prPod, "the interceptor's Pod": d.Spec.Template.Labels, "another project's EventListener": other} {
		if from.Matches(labels.Set(l)) {
			t.Errorf("%s (%v) may call the interceptor", what, l)
		}
	}
	readme := string(tree["README.md"])
	if !strings.Contains(readme, "NetworkPolicy") {
		t.Error("the README does not mention the NetworkPolicy")
	}
}
