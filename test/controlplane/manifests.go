package controlplane

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pipewright/pipewright/pkg/tekton"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// object is one document of a release's config/ folder.
type object struct {
	source     string // file it came from, for errors
	raw        []byte // the YAML as written
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

func (o object) String() string {
	return fmt.Sprintf("%s %s/%s (%s)", o.Kind, o.Metadata.Namespace, o.Metadata.Name, o.source)
}

// release is a Tekton release's config/ folder sorted into install phases.
type release struct {
	name string
	// apply is everything kubectl applies before any process starts:
	// Namespace, CRDs, RBAC, ConfigMaps, Secrets, Services.
	apply []object
	// webhookConfigs are applied once the objects they guard exist, since
	// until the webhooks run they reject everything they match.
	webhookConfigs []object
	// custom are instances of the release's own CRDs (ClusterInterceptors),
	// applied through the running webhooks.
	custom []object
	// deployments run as local processes instead.
	deployments []appsv1.Deployment
	// services are kept to route to those processes.
	services []corev1.Service
	// skipped lists what is not applied and why.
	skipped []string
}

// loadRelease reads every *.yaml under dir, except the sub-folders in skipDirs.
func loadRelease(name, dir string, skipDirs ...string) (*release, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != dir {
			for _, s := range skipDirs {
				if d.Name() == s {
					return filepath.SkipDir
				}
			}
		}
		if !d.IsDir() && strings.HasSuffix(path, ".yaml") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s config: %w", name, err)
	}
	// kubectl apply -R orders files lexically; the releases name theirs so
	// that this is a valid install order (100-namespace, 200-, 300-crds ...).
	sort.Strings(files)
	var objs []object
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, d := range tekton.Split(b) {
			doc := d.Text
			var o object
			if err := yaml.Unmarshal(doc, &o); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			if o.Kind == "" {
				continue // comments only
			}
			o.source = strings.TrimPrefix(f, dir+"/")
			o.raw = doc
			objs = append(objs, o)
		}
	}
	return sortRelease(name, objs)
}

func sortRelease(name string, objs []object) (*release, error) {
	r := &release{name: name}
	groups := map[string]bool{}
	for _, o := range objs {
		if o.Kind == "CustomResourceDefinition" {
			var crd struct {
				Spec struct {
					Group string `json:"group"`
				} `json:"spec"`
			}
			if err := yaml.Unmarshal(o.raw, &crd); err != nil {
				return nil, fmt.Errorf("%s: %w", o, err)
			}
			groups[crd.Spec.Group] = true
		}
	}
	for _, o := range objs {
		group, _, _ := strings.Cut(o.APIVersion, "/")
		switch {
		case o.Kind == "Deployment":
			var d appsv1.Deployment
			if err := yaml.Unmarshal(o.raw, &d); err != nil {
				return nil, fmt.Errorf("%s: %w", o, err)
			}
			r.deployments = append(r.deployments, d)
		case o.Kind == "HorizontalPodAutoscaler":
			r.skipped = append(r.skipped, o.String()+": nothing to scale, the Deployment runs as a process")
		case o.Kind == "MutatingWebhookConfiguration" || o.Kind == "ValidatingWebhookConfiguration":
			r.webhookConfigs = append(r.webhookConfigs, o)
		case strings.Contains(o.APIVersion, "/") && groups[group]:
			r.custom = append(r.custom, o)
		default:
			if o.Kind == "Service" {
				var s corev1.Service
				if err := yaml.Unmarshal(o.raw, &s); err != nil {
					return nil, fmt.Errorf("%s: %w", o, err)
				}
				r.services = append(r.services, s)
			}
			r.apply = append(r.apply, o)
		}
	}
	return r, nil
}

// yamlStream joins objects into one multi-document stream for kubectl.
func yamlStream(objs []object) []byte {
	var b bytes.Buffer
	for _, o := range objs {
		b.WriteString("---\n")
		b.Write(bytes.TrimSpace(o.raw))
		b.WriteString("\n")
	}
	return b.Bytes()
}
