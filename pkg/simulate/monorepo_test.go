package simulate_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/pipewright/pipewright/pkg/github/githubtest"
	"github.com/pipewright/pipewright/pkg/simulate"
)

// TestMonorepoTriggers: a monorepo's EventListener selects its services'
// Triggers; a pull request runs the pipeline of each service whose files
// it changes, with that service's values, and no other.
func TestMonorepoTriggers(t *testing.T) {
	tree := project(t, "services:\n  - name: api\n    context: services/api\n  - name: web\n    context: services/web\n    pack: node\n    dockerfile: ../../docker/web.Dockerfile\n")
	for _, c := range []struct {
		files []string
		fired []string // service: pipeline
	}{
		{[]string{"services/web/main.js", "README.md"}, []string{"web: hello-world-node-pull-request"}},
		{[]string{"services/api/main.go", "services/web/index.js"}, []string{"api: hello-world-go-1-26-pull-request", "web: hello-world-node-pull-request"}},
		{[]string{"README.md"}, nil},
	} {
		t.Run(fmt.Sprint(c.files), func(t *testing.T) {
			gh := githubtest.New(t)
			gh.AddRepo(repo)
			gh.AddPull(repo, githubtest.Pull{Number: 2, HeadSHA: prHead, BaseRef: "master", Files: c.files})
			res, err := simulate.Run(context.Background(), tree,
				simulate.Delivery{Event: "pull_request", Payload: read(t, "pull_request.opened.json"), Secret: secret},
				simulate.Options{GitHubAPI: gh.URL, GitHubToken: gh.Token})
			if err != nil {
				t.Fatal(err)
			}
			var fired []string
			for _, f := range res.Fired {
				pr := f.PipelineRun
				svc := pr.Labels["pipewright.dev/service"]
				fired = append(fired, svc+": "+pr.Spec.PipelineRef.Name)
				params := map[string]string{}
				for _, p := range pr.Spec.Params {
					params[p.Name] = p.Value.StringVal
				}
				dockerfile := map[string]string{"api": "Dockerfile", "web": "../../docker/web.Dockerfile"}[svc]
				if params["context"] != "services/"+svc || params["image"] != "ghcr.io/codertocat/hello-world/"+svc || params["dockerfile"] != dockerfile ||
					params["status-context"] != "pipewright/"+svc || params["revision"] != prHead {
					t.Errorf("%s runs with %v", svc, params)
				}
			}
			slices.Sort(fired)
			if !slices.Equal(fired, c.fired) {
				t.Errorf("fired %q, want %q; skipped %+v", fired, c.fired, res.Skipped)
			}
		})
	}
}

// TestMonorepoRelease: a merge releases only the services whose files its
// commits change, each deploying its own manifests.
func TestMonorepoRelease(t *testing.T) {
	tree := project(t, "services:\n  - name: api\n    context: services/api\n  - name: web\n    context: services/web\n    manifests: deploy\n")
	gh := githubtest.New(t)
	gh.AddRepo(repo)
	gh.SetBranch(repo, "master", newHead)
	payload := derive(t, "push.json", map[string]any{"ref": "refs/heads/master", "deleted": false, "after": newHead,
		"commits": []any{map[string]any{"id": newHead, "added": []any{}, "removed": []any{}, "modified": []any{"services/web/app.go", "docs/x.md"}}}})
	res, err := simulate.Run(context.Background(), tree, simulate.Delivery{Event: "push", Payload: payload, Secret: secret},
		simulate.Options{GitHubAPI: gh.URL, GitHubToken: gh.Token})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fired) != 1 || res.Fired[0].Trigger != "web-release" {
		t.Fatalf("fired %+v, want web-release only; skipped %+v", res.Fired, res.Skipped)
	}
	params := map[string]string{}
	for _, p := range res.Fired[0].PipelineRun.Spec.Params {
		params[p.Name] = p.Value.StringVal
	}
	if params["manifests"] != "services/web/deploy" || params["deployment"] != "web" || params["revision"] != newHead {
		t.Errorf("web releases with %v", params)
	}
}
