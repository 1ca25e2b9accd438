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
	// Router is "httproute" (Gateway API, the default) or "smi" (TrafficSplit).
	Router        string
	Route         string // HTTPRoute or TrafficSplit name; default: the app
	StableService string // default: the app
	CanaryService string // default: <app>-canary
	Container     string
	Deadline      time.Duration // for each Deployment to become available
	Poll          time.Duration
}

// Release runs one release on the cluster and writes its results.
func Release(ctx context.Context, cfg Config, cl Cluster, files ResultFiles) (*Result, error) {
	// Bad flags are reported before the cluster is looked for.
	check := cfg
	check.setDefaults()
	if err := check.validate(); err != nil {
		return nil, err
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
	w, r, s, err := Objects(kc, dc, cfg, cl)
	if err != nil {
		return nil, err
	}
	res, err := Run(ctx, cfg, w, r, s)
	if err != nil {
		return nil, err
	}
	return res, files.Write(res)
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
