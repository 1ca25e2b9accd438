// Package steprun runs a Tekton step's script on this machine, the way the
// entrypoint would in a Pod: Tekton's variables in env values
// ($(params.x), $(workspaces.x.path|bound), $(results.x.path)) are replaced
// first, Secret-sourced env vars come from Inputs.Secrets, and the results
// written are read back. Tests use it to prove catalog scripts really work.
package steprun

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

// Inputs are what a TaskRun would supply.
type Inputs struct {
	Params     map[string]string
	Workspaces map[string]string // name -> folder; absent = unbound
	// Secrets maps "secret-name/key" to the value a secretKeyRef reads.
	Secrets map[string]string
	// Env is added to the process environment (PATH, proxies, ...).
	Env []string
	// Mounts replaces env values of the step that name a volume's mount
	// path (e.g. a binary another step put in an emptyDir) with a folder
	// of this machine: mount path -> folder.
	Mounts map[string]string
}

// Output is what the step produced.
type Output struct {
	Results map[string]string
	Log     string // combined stdout and stderr
}

var ref = regexp.MustCompile(`\$\((params|workspaces|results)\.([A-Za-z0-9_-]+)(?:\.(path|bound))?\)`)

// Run executes one step of task.
func Run(ctx context.Context, task v1.TaskSpec, step v1.Step, in Inputs) (Output, error) {
	dir, err := os.MkdirTemp("", "steprun-")
	if err != nil {
		return Output{}, err
	}
	defer os.RemoveAll(dir)
	resultsDir := filepath.Join(dir, "results")
	home := filepath.Join(dir, "home")
	for _, d := range []string{resultsDir, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return Output{}, err
		}
	}

	params := map[string]string{}
	for _, p := range task.Params {
		if p.Default != nil {
			params[p.Name] = p.Default.StringVal
		}
	}
	for k, v := range in.Params {
		params[k] = v
	}
	var missing []string
	subst := func(s string) string {
		return ref.ReplaceAllStringFunc(s, func(m string) string {
			g := ref.FindStringSubmatch(m)
			switch g[1] {
			case "params":
				v, ok := params[g[2]]
				if !ok {
					missing = append(missing, g[2])
				}
				return v
			case "workspaces":
				path, bound := in.Workspaces[g[2]]
				if g[3] == "bound" {
					return fmt.Sprint(bound)
				}
				return path
			case "results":
				return filepath.Join(resultsDir, g[2])
			}
			return m
		})
	}

	env := append(os.Environ(), in.Env...)
	for _, e := range step.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			key := subst(e.ValueFrom.SecretKeyRef.Name) + "/" + subst(e.ValueFrom.SecretKeyRef.Key)
			v, ok := in.Secrets[key]
			if !ok {
				return Output{}, fmt.Errorf("step %s reads secret %s, which the test did not supply", step.Name, key)
			}
			env = append(env, e.Name+"="+v)
		case e.Name == "HOME":
			env = append(env, "HOME="+home) // a private HOME, not the machine's
		default:
			v := subst(e.Value)
			for mount, dir := range in.Mounts {
				if v == mount || strings.HasPrefix(v, mount+"/") {
					v = dir + strings.TrimPrefix(v, mount)
				}
			}
			env = append(env, e.Name+"="+v)
		}
	}
	if len(missing) > 0 {
		return Output{}, fmt.Errorf("step %s: params without value: %s", step.Name, strings.Join(missing, ", "))
	}
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte(step.Script), 0o755); err != nil {
		return Output{}, err
	}
	cmd := exec.CommandContext(ctx, script)
	cmd.Env = env
	cmd.Dir = dir
	if step.WorkingDir != "" {
		cmd.Dir = subst(step.WorkingDir)
	}
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	runErr := cmd.Run()
	out := Output{Results: map[string]string{}, Log: log.String()}
	for _, r := range task.Results {
		if b, err := os.ReadFile(filepath.Join(resultsDir, r.Name)); err == nil {
			out.Results[r.Name] = string(b)
		}
	}
	if runErr != nil {
		return out, fmt.Errorf("step %s: %w\n%s", step.Name, runErr, log.String())
	}
	return out, nil
}
