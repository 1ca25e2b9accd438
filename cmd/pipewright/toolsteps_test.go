package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator/catalog"
)

// The catalog Tasks that run pipewright (from the tool image) call it with
// args written in Go beside the Task; parse them with the real commands, so
// a renamed or missing flag fails here rather than in a user's cluster.
func TestToolStepArgsParse(t *testing.T) {
	root := newRoot()
	checked := 0
	vars := regexp.MustCompile(`\$\((params|results|workspaces)\.[A-Za-z0-9_.-]+\)`)
	for _, e := range catalog.All() {
		for _, s := range e.Spec.Steps {
			if len(s.Command) != 1 || s.Command[0] != catalog.ToolBinary {
				continue
			}
			// Stand in for Tekton's substitution with values of the right
			// shape (defaults where the Task has them).
			defaults := map[string]string{}
			for _, p := range e.Spec.Params {
				if p.Default != nil {
					defaults["$(params."+p.Name+")"] = p.Default.StringVal
				}
			}
			var args []string
			for _, a := range s.Args {
				args = append(args, vars.ReplaceAllStringFunc(a, func(v string) string {
					if d, ok := defaults[v]; ok {
						return d
					}
					if strings.HasSuffix(v, "-id)") {
						return "1" // an id without default: a number
					}
					return "/tmp/x"
				}))
			}
			checked++
			cmd, rest, err := root.Find(args)
			if err != nil || cmd == root {
				t.Errorf("task %s step %s: %v is not a pipewright command: %v", e.Name, s.Name, args, err)
				continue
			}
			if err := cmd.ParseFlags(rest); err != nil {
				t.Errorf("task %s step %s: pipewright %s: %v", e.Name, s.Name, cmd.Name(), err)
			}
			if cmd.Name() == "canary" {
				// Every strategy accepts the Task's full set of flags, at
				// their defaults, and they pass every rule.
				for _, f := range [][2]string{{"app", "shop"}, {"image", "registry.example/shop@sha256:" + strings.Repeat("ab", 32)}} {
					if err := cmd.Flags().Set(f[0], f[1]); err != nil {
						t.Fatal(err)
					}
				}
				for _, strategy := range []string{"pipewright", "flagger", "argo-rollouts"} {
					if err := cmd.Flags().Set("strategy", strategy); err != nil {
						t.Fatal(err)
					}
					if err := cmd.PreRunE(cmd, nil); err != nil {
						t.Errorf("task %s step %s with strategy %s: %v", e.Name, s.Name, strategy, err)
					}
				}
			}
			if cmd.Args != nil {
				if err := cmd.Args(cmd, cmd.Flags().Args()); err != nil {
					t.Errorf("task %s step %s: pipewright %s args: %v", e.Name, s.Name, strings.Join(args, " "), err)
				}
			}
		}
	}
	if checked < 3 {
		t.Errorf("checked %d tool steps; go-image, canary-release and github-check-run have one each", checked)
	}
}
