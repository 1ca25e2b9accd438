package canary

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKubeRestore: what a killed release leaves on the cluster (traffic
// split, canary running, phase progressing) is undone by Restore, which a
// release pipeline's finally runs; a decision already taken (promoting) is
// carried through; another image's release is left alone.
func TestKubeRestore(t *testing.T) {
	env := newKubeEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		state  State
		image  string // Restore's --image
		said   string
		phase  Phase
		weight string // stable/canary after Restore
		stable string // the stable Deployment's image after Restore
		canary bool   // the canary Deployment is left
	}{
		{"progressing is undone", State{Image: newImage, Phase: Progressing, Step: 0, Weight: 50}, newImage,
			"restored: " + newImage + " had stopped at 50% canary traffic", Interrupted, "100/0", oldImage, false},
		{"promoting is finished", State{Image: newImage, Phase: Promoting, Step: 1, Weight: 100}, "",
			"finished the promotion of " + newImage, Promoted, "100/0", newImage, true},
		{"another image's release is left", State{Image: newImage, Phase: Progressing, Weight: 50}, oldImage,
			"the route's last release is " + newImage + " (progressing), not " + oldImage + "; left alone", Progressing, "50/50", oldImage, true},
		{"an ended release is left", State{Image: newImage, Phase: RolledBack}, newImage,
			newImage + " was rolled-back; nothing to restore", RolledBack, "50/50", oldImage, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := "restore-" + strings.Fields(tc.name)[0]
			seed(t, env, ns, "shop", oldImage)
			standInKubelet(t, env, ns)
			cfg := Config{App: "shop", Namespace: ns, Image: newImage}
			w, r, s, err := Objects(env.kc, env.dc, cfg, Cluster{Deadline: 10 * time.Second, Poll: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			// What the killed run left: the canary up, the split, its state.
			if err := w.DeployCanary(ctx, newImage); err != nil {
				t.Fatal(err)
			}
			if err := r.SetWeight(ctx, 50); err != nil {
				t.Fatal(err)
			}
			if err := s.Save(ctx, tc.state); err != nil {
				t.Fatal(err)
			}
			var progress bytes.Buffer
			cfg.Image, cfg.Progress = tc.image, &progress
			said, err := Restore(ctx, cfg, w, r, s)
			if err != nil {
				t.Fatalf("%v\n%s", err, progress.String())
			}
			if !strings.HasPrefix(said, tc.said) {
				t.Errorf("said %q, want %q", said, tc.said)
			}
			st, _ := s.Load(ctx)
			if st.Phase != tc.phase {
				t.Errorf("phase %s, want %s", st.Phase, tc.phase)
			}
			sw, cw, err := r.(weigher).Weights(ctx)
			if got := fmt.Sprintf("%d/%d", sw, cw); err != nil || got != tc.weight {
				t.Errorf("weights %s (%v), want %s", got, err, tc.weight)
			}
			stable, err := env.kc.AppsV1().Deployments(ns).Get(ctx, "shop", metav1.GetOptions{})
			if err != nil || stable.Spec.Template.Spec.Containers[0].Image != tc.stable {
				t.Errorf("stable Deployment %v, want image %s", err, tc.stable)
			}
			_, err = env.kc.AppsV1().Deployments(ns).Get(ctx, "shop-canary", metav1.GetOptions{})
			if tc.canary == apierrors.IsNotFound(err) {
				t.Errorf("canary Deployment left %v, got %v", tc.canary, err)
			}
		})
	}
}
