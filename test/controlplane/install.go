package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func (cp *ControlPlane) loadRelease(name string, skipDirs ...string) (*release, error) {
	dir, err := cp.sandbox.Binaries.Get(name + "-config")
	if err != nil {
		return nil, err
	}
	// The module cache folder is <module>@<version>/config.
	_, version, ok := strings.Cut(filepath.Base(filepath.Dir(dir)), "@")
	if !ok {
		return nil, fmt.Errorf("%s: cannot tell the version from %s", name, dir)
	}
	cp.versions[name] = version
	return loadRelease(name, dir, skipDirs...)
}

// install applies the releases' config/ and runs their Deployments, in the
// order a cluster would converge to: objects, then webhook configurations,
// then the programs, then the releases' own custom resources through the
// now-running webhooks.
func (cp *ControlPlane) install(ctx context.Context, releases []*release) error {
	var apply, hooks, custom []object
	for _, r := range releases {
		apply = append(apply, r.apply...)
		hooks = append(hooks, r.webhookConfigs...)
		custom = append(custom, r.custom...)
		for _, s := range r.skipped {
			cp.logf("%s: skipped %s", r.name, s)
		}
	}
	cp.logf("applying %d objects from the releases' config/", len(apply))
	// Server-side: the CRDs are too large for kubectl's last-applied annotation.
	if _, err := cp.Kubectl(ctx, yamlStream(apply), "apply", "--server-side", "--force-conflicts", "-f", "-"); err != nil {
		return err
	}
	if _, err := cp.Kubectl(ctx, nil, "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s"); err != nil {
		return err
	}
	if _, err := cp.Kubectl(ctx, yamlStream(hooks), "apply", "--server-side", "--force-conflicts", "-f", "-"); err != nil {
		return err
	}
	// Webhooks first: nothing can be admitted without them. The rest start
	// once the releases' custom resources exist, since some read them only
	// at startup (the core interceptors publish their CA bundle into the
	// ClusterInterceptors then, and after that once a minute).
	if err := cp.runDeployments(ctx, releases, true); err != nil {
		return err
	}
	if err := cp.waitWebhooks(ctx, hooks); err != nil {
		return err
	}
	if len(custom) > 0 {
		if _, err := cp.Kubectl(ctx, yamlStream(custom), "apply", "--server-side", "--force-conflicts", "-f", "-"); err != nil {
			return err
		}
		cp.logf("applied %d custom resources through the webhooks", len(custom))
	}
	if err := cp.runDeployments(ctx, releases, false); err != nil {
		return err
	}
	for _, o := range custom {
		if o.Kind == "ClusterInterceptor" {
			if err := cp.waitClusterInterceptors(ctx); err != nil {
				return err
			}
			break
		}
	}
	return nil
}

// runDeployments starts the releases' Deployments that serve webhooks, or
// the others, and routes their Services.
func (cp *ControlPlane) runDeployments(ctx context.Context, releases []*release, webhooks bool) error {
	for _, r := range releases {
		for i := range r.deployments {
			d := &r.deployments[i]
			c := d.Spec.Template.Spec.Containers[0]
			if servesWebhook(c) != webhooks {
				continue
			}
			bin, ok := imageBinary(c.Image)
			if _, err := cp.sandbox.Binaries.Get(bin); !ok || err != nil {
				// The events controller (CloudEvents) is not built: the suite
				// sends no CloudEvents.
				cp.logf("%s: not running deployment %s (image %s is not built)", r.name, d.Name, c.Image)
				continue
			}
			_, ports, err := cp.deployment(ctx, d, cp.versions[r.name], nil)
			if err != nil {
				return err
			}
			if err := cp.route(ctx, d, r.services, ports); err != nil {
				return err
			}
			cp.logf("%s: started %s", r.name, d.Name)
		}
	}
	return nil
}

func servesWebhook(c corev1.Container) bool {
	for _, p := range c.Ports {
		if p.Name == "https-webhook" {
			return true
		}
	}
	return false
}

// waitWebhooks waits until each webhook configuration has a CA bundle, which
// the knative webhooks fill in once they have made their serving certificate,
// and until CRDs that convert through a webhook have one too.
func (cp *ControlPlane) waitWebhooks(ctx context.Context, hooks []object) error {
	want := map[string]bool{}
	for _, h := range hooks {
		want[h.Kind+"/"+h.Metadata.Name] = true
	}
	return cp.waitCABundles(ctx, "webhooks", "mutatingwebhookconfigurations,validatingwebhookconfigurations,customresourcedefinitions", func(out []byte) ([]string, error) {
		var list struct {
			Items []struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
				Webhooks []struct {
					Name         string       `json:"name"`
					ClientConfig clientConfig `json:"clientConfig"`
				} `json:"webhooks"`
				Spec struct {
					Conversion *struct {
						Strategy string `json:"strategy"`
						Webhook  *struct {
							ClientConfig clientConfig `json:"clientConfig"`
						} `json:"webhook"`
					} `json:"conversion"`
				} `json:"spec"`
			} `json:"items"`
		}
		if err := json.Unmarshal(out, &list); err != nil {
			return nil, err
		}
		var missing []string
		for _, it := range list.Items {
			key := it.Kind + "/" + it.Metadata.Name
			if want[key] {
				for _, w := range it.Webhooks {
					if w.ClientConfig.CABundle == "" {
						missing = append(missing, key+" "+w.Name)
					}
				}
			}
			if c := it.Spec.Conversion; c != nil && c.Strategy == "Webhook" && (c.Webhook == nil || c.Webhook.ClientConfig.CABundle == "") {
				missing = append(missing, key+" conversion")
			}
		}
		return missing, nil
	})
}

// waitClusterInterceptors waits until the core interceptors have published
// their CA bundle, without which an EventListener cannot call them.
func (cp *ControlPlane) waitClusterInterceptors(ctx context.Context) error {
	return cp.waitCABundles(ctx, "core interceptors", "clusterinterceptors", func(out []byte) ([]string, error) {
		var list struct {
			Items []struct {
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
				Spec struct {
					ClientConfig clientConfig `json:"clientConfig"`
				} `json:"spec"`
			} `json:"items"`
		}
		if err := json.Unmarshal(out, &list); err != nil {
			return nil, err
		}
		if len(list.Items) == 0 {
			return []string{"(no ClusterInterceptors yet)"}, nil
		}
		var missing []string
		for _, it := range list.Items {
			if it.Spec.ClientConfig.CABundle == "" {
				missing = append(missing, it.Metadata.Name)
			}
		}
		return missing, nil
	})
}

type clientConfig struct {
	CABundle string `json:"caBundle"`
}

// waitCABundles polls `kubectl get resources -o json` until missing finds
// nothing in it still waiting for a CA bundle.
func (cp *ControlPlane) waitCABundles(ctx context.Context, what, resources string, missing func([]byte) ([]string, error)) error {
	var last []string
	err := cp.WaitFor(ctx, 3*time.Minute, func() (bool, error) {
		out, err := cp.Kubectl(ctx, nil, "get", resources, "-o", "json")
		if err != nil {
			return false, err
		}
		last, err = missing(out)
		return len(last) == 0, err
	})
	if err != nil {
		return fmt.Errorf("%s not ready, no CA bundle in %s: %w", what, strings.Join(last, ", "), err)
	}
	cp.logf("%s ready", what)
	return nil
}
