package canary

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Cluster says where the objects are and how traffic is shifted.
type Cluster struct {
	Kubeconfig string // empty: in-cluster config
	// Strategy is StrategyPipewright (the default), StrategyFlagger or
	// StrategyArgoRollouts.
	Strategy string
	// Object is the Flagger Canary or the Argo Rollout; default: the app.
	Object string
	// VerdictDeadline bounds the wait for Flagger's or Argo Rollouts'
	// verdict; default 30m.
	VerdictDeadline time.Duration
	// Router is "httproute" (Gateway API, the default) or "smi" (TrafficSplit).
	Router        string
	Route         string // HTTPRoute or TrafficSplit name; default: the app
	StableService string // default: the app
	CanaryService string // default: <app>-canary
	Container     string
	Deadline      time.Duration // for each Deployment to become available
	Poll          time.Duration // default 2s; 5s for a controller's status
}

// Release runs one release on the cluster and writes its results.
func Release(ctx context.Context, cfg Config, cl Cluster, files ResultFiles) (*Result, error) {
	// Bad flags are reported before the cluster is looked for.
	check := cfg
	check.setDefaults()
	switch cl.Strategy {
	case "", StrategyPipewright:
		if err := check.validate(); err != nil {
			return nil, err
		}
	case StrategyFlagger, StrategyArgoRollouts:
		if err := check.validateTarget(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("strategy %q: want %s, %s or %s", cl.Strategy, StrategyPipewright, StrategyFlagger, StrategyArgoRollouts)
	}
	rc, err := restConfig(cl.Kubeconfig)
	if err != nil {
		return nil, err
	}
	kc, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	dc, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	var res *Result
	if c := ControllerFor(kc, dc, cfg, cl); c != nil {
		res, err = Follow(ctx, cfg, c, cl.VerdictDeadline, cl.Poll)
	} else {
		w, r, s, oerr := Objects(kc, dc, cfg, cl)
		if oerr != nil {
			return nil, oerr
		}
		res, err = Run(ctx, cfg, w, r, s)
	}
	if err != nil {
		return nil, err
	}
	return res, files.Write(res)
}

// ControllerFor returns the Controller of a flagger or argo-rollouts
// strategy, nil for the built-in one.
func ControllerFor(kc kubernetes.Interface, dc dynamic.Interface, cfg Config, cl Cluster) Controller {
	ns, name := cfg.Namespace, cl.Object
	if ns == "" {
		ns = "default"
	}
	if name == "" {
		name = cfg.App
	}
	switch cl.Strategy {
	case StrategyFlagger:
		return &FlaggerCanary{Dynamic: dc, Client: kc, Namespace: ns, Canary: name, Container: cl.Container}
	case StrategyArgoRollouts:
		return &ArgoRollout{Dynamic: dc, Namespace: ns, Rollout: name, Container: cl.Container}
	}
	return nil
}

// Objects returns the Workload, Router and Store for cfg on a cluster.
func Objects(kc kubernetes.Interface, dc dynamic.Interface, cfg Config, cl Cluster) (Workload, Router, Store, error) {
	ns := cfg.Namespace
	if ns == "" {
		ns = "default"
	}
	or := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	route := or(cl.Route, cfg.App)
	stable := or(cl.StableService, cfg.App)
	canary := or(cl.CanaryService, CanaryName(cfg.App))
	w := &Deployments{Client: kc, Namespace: ns, App: cfg.App, Container: cl.Container, Deadline: cl.Deadline, Poll: cl.Poll}
	switch cl.Router {
	case "", "httproute":
		h := &HTTPRoute{Dynamic: dc, Namespace: ns, Name: route, Stable: stable, CanaryTarget: canary}
		return w, h, h.Store(), nil
	case "smi":
		t := &TrafficSplit{Dynamic: dc, Namespace: ns, Name: route, Root: cfg.App, Stable: stable, CanaryTarget: canary}
		return w, t, t.Store(), nil
	}
	return nil, nil, nil, fmt.Errorf("router %q: want httproute or smi", cl.Router)
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		c, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("in-cluster config: %w (hint: outside a cluster pass --kubeconfig)", err)
		}
		return c, nil
	}
	c, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	return c, nil
}
