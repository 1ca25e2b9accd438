package simulate_test

import (
	"context"
	"fmt"
	"reflect"
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
			res, _ := openPullRequest(t, tree, c.files)
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

// TestMonorepoLifecycle: one delivery starts a run per service it touches,
// all through the one pipewright interceptor. Its replay and cancel
// lookups stay within a service: the second service's run is no replay of
// the first's, a new push cancels only the older runs of the services it
// runs again, and the same delivery sent again starts nothing.
func TestMonorepoLifecycle(t *testing.T) {
	tree := project(t, "services:\n  - name: api\n    context: services/api\n  - name: web\n    context: services/web\n    pack: node\n")
	gh := githubtest.New(t)
	gh.AddRepo(repo)
	pull := githubtest.Pull{Number: 2, HeadSHA: prHead, BaseRef: "master", Files: []string{"services/api/main.go", "services/web/index.js"}}
	gh.AddPull(repo, pull)
	cluster := &simulate.Cluster{}
	opts := simulate.Options{GitHubAPI: gh.URL, GitHubToken: gh.Token, Cluster: cluster}
	deliver := func(id string, body []byte) *simulate.Result {
		t.Helper()
		res, err := simulate.Run(context.Background(), tree, simulate.Delivery{Event: "pull_request", Payload: body, Secret: secret, ID: id}, opts)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	state := func() map[string]string {
		out := map[string]string{}
		for _, r := range cluster.Runs {
			out[r.Labels["pipewright.dev/service"]+"@"+r.Labels["pipewright.dev/sha"][:7]] = string(r.Spec.Status)
		}
		return out
	}
	first := read(t, "pull_request.opened.json")
	if res := deliver("00000000-0000-0000-0000-000000000001", first); len(res.Fired) != 2 {
		t.Fatalf("a pull request touching both services fired %d runs; skipped %+v", len(res.Fired), res.Skipped)
	}
	want := map[string]string{"api@" + prHead[:7]: "", "web@" + prHead[:7]: ""}
	if got := state(); !reflect.DeepEqual(got, want) {
		t.Errorf("after the first delivery: %v, want %v", got, want)
	}
	if res := deliver("00000000-0000-0000-0000-000000000001", first); len(res.Fired) != 0 {
		t.Errorf("the same delivery again fired %d runs", len(res.Fired))
	}
	// A new head that changes only api's files: api's older run is
	// cancelled, web's keeps running.
	const shaB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	pull.HeadSHA, pull.Files = shaB, []string{"services/api/main.go"}
	gh.AddPull(repo, pull)
	sync := derive(t, "pull_request.synchronize.json", map[string]any{"number": 2, "pull_request.number": 2, "pull_request.head.sha": shaB})
	if res := deliver("00000000-0000-0000-0000-000000000002", sync); len(res.Fired) != 1 {
		t.Fatalf("a push touching api fired %d runs; skipped %+v", len(res.Fired), res.Skipped)
	}
	want = map[string]string{"api@" + prHead[:7]: "CancelledRunFinally", "web@" + prHead[:7]: "", "api@bbbbbbb": ""}
	if got := state(); !reflect.DeepEqual(got, want) {
		t.Errorf("after a push touching api only: %v, want %v", got, want)
	}
}

// TestMonorepoRetest: /retest on a pull request reruns the services whose
// files it changes, each service's ChatOps trigger asking the interceptor,
// not every service of the repository; /test names one pipeline.
func TestMonorepoRetest(t *testing.T) {
	tree := project(t, "services:\n  - name: api\n    context: services/api\n  - name: web\n    context: services/web\n    pack: node\n")
	gh := fakeGitHub(t, prHead, true)
	gh.AddPull(repo, githubtest.Pull{Number: 1, Author: "Codertocat", Association: "OWNER", HeadSHA: prHead, HeadRef: "patch-1",
		BaseRef: "master", Files: []string{"services/web/index.js"}})
	next := deliveries(t, tree, simulate.Options{GitHubAPI: gh.URL, GitHubToken: gh.Token, Cluster: &simulate.Cluster{}})
	services := func(res *simulate.Result) []string {
		var out []string
		for _, f := range res.Fired {
			out = append(out, f.PipelineRun.Labels["pipewright.dev/service"])
		}
		slices.Sort(out)
		return out
	}
	if got := services(next("issue_comment", comment(t, "/retest", "Codertocat"))); !slices.Equal(got, []string{"web"}) {
		t.Errorf("/retest of a pull request changing web only reran %v", got)
	}
}
