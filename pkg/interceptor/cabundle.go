package interceptor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pipewright/pipewright/pkg/keys"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// ClusterInterceptors is the Triggers resource Publisher updates.
var ClusterInterceptors = schema.GroupVersionResource{Group: "triggers.tekton.dev", Version: "v1alpha1", Resource: "clusterinterceptors"}

// EventListeners is the Triggers resource whose Pods Publisher restarts
// once the CA is published.
var EventListeners = schema.GroupVersionResource{Group: "triggers.tekton.dev", Version: "v1beta1", Resource: "eventlisteners"}

// ServerTypeLabel marks a ClusterInterceptor served over HTTPS: an
// EventListener adds the caBundle of every ClusterInterceptor so labelled
// to the CAs it trusts, and at startup waits (then fails) until each of
// them has one. Publisher sets it together with the caBundle, so the
// generated ClusterInterceptor leaves it out: a project whose interceptor
// has not started yet holds up no EventListener in the cluster.
const ServerTypeLabel = "server/type"

// Publisher keeps a ClusterInterceptor's spec.clientConfig.caBundle at CA,
// labelled server/type: https.
type Publisher struct {
	Client dynamic.Interface
	Name   string // the ClusterInterceptor
	CA     []byte // PEM
	// Listener, in Namespace, is the EventListener that calls this
	// interceptor. An EventListener reads caBundles when its Pod starts,
	// then once a minute: one started before the CA was published fails
	// TLS for up to a minute. Publisher marks its Pod template with the
	// CA's digest (keys.InterceptorCA) so Triggers starts its Pods again,
	// trusting the CA from their start. Empty: no restart.
	Listener, Namespace string
	// Interval is how often Run checks again after a success (the object
	// may be deleted and applied again, without a caBundle); default a
	// minute, as Triggers' EventListeners re-read caBundles every minute.
	Interval time.Duration
	// Backoff is the first wait after a failure, doubled up to MaxBackoff;
	// defaults one second and thirty seconds.
	Backoff, MaxBackoff time.Duration
	Logf                func(format string, args ...any)
}

// Publish makes one attempt: it reads the ClusterInterceptor and, unless it
// already carries CA and the label, patches both in. It reports whether it
// changed anything.
func (p *Publisher) Publish(ctx context.Context) (bool, error) {
	ci := p.Client.Resource(ClusterInterceptors)
	cur, err := ci.Get(ctx, p.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, fmt.Errorf("ClusterInterceptor %s does not exist (apply the project's kustomization)", p.Name)
	}
	if err != nil {
		return false, fmt.Errorf("read ClusterInterceptor %s: %w", p.Name, err)
	}
	if upToDate(cur, p.CA) {
		return false, nil
	}
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"labels": map[string]string{ServerTypeLabel: "https"}},
		"spec":     map[string]any{"clientConfig": map[string]any{"caBundle": p.CA}}, // []byte: base64, as the API wants it
	})
	if err != nil {
		return false, err
	}
	if _, err := ci.Patch(ctx, p.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "pipewright-interceptor"}); err != nil {
		return false, fmt.Errorf("set the caBundle of ClusterInterceptor %s: %w", p.Name, err)
	}
	return true, nil
}

// listenerCAPath is where the mark lives: the annotations of the Pod
// template Triggers makes the EventListener's Deployment from.
var listenerCAPath = []string{"spec", "resources", "kubernetesResource", "spec", "template", "metadata", "annotations"}

// RestartListener marks Listener's Pod template with the CA's digest,
// unless it already carries it. An EventListener that does not exist yet
// needs nothing: its Pods will read the published caBundle when they
// start. It reports whether it changed anything.
func (p *Publisher) RestartListener(ctx context.Context) (bool, error) {
	if p.Listener == "" {
		return false, nil
	}
	els := p.Client.Resource(EventListeners).Namespace(p.Namespace)
	cur, err := els.Get(ctx, p.Listener, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read EventListener %s/%s: %w", p.Namespace, p.Listener, err)
	}
	digest := CADigest(p.CA)
	have, _, _ := unstructured.NestedStringMap(cur.Object, listenerCAPath...)
	if have[keys.InterceptorCA] == digest {
		return false, nil
	}
	var patch any = map[string]any{keys.InterceptorCA: digest}
	for i := len(listenerCAPath) - 1; i >= 0; i-- {
		patch = map[string]any{listenerCAPath[i]: patch}
	}
	body, err := json.Marshal(patch)
	if err != nil {
		return false, err
	}
	if _, err := els.Patch(ctx, p.Listener, types.MergePatchType, body, metav1.PatchOptions{FieldManager: "pipewright-interceptor"}); err != nil {
		return false, fmt.Errorf("mark EventListener %s/%s with the CA's digest: %w", p.Namespace, p.Listener, err)
	}
	return true, nil
}

// CADigest is what keys.InterceptorCA holds: the first 16 bytes of the
// CA's SHA-256, in hex. It names the CA without repeating it.
func CADigest(ca []byte) string {
	sum := sha256.Sum256(ca)
	return hex.EncodeToString(sum[:16])
}

func upToDate(u *unstructured.Unstructured, ca []byte) bool {
	if u.GetLabels()[ServerTypeLabel] != "https" {
		return false
	}
	b64, _, _ := unstructured.NestedString(u.Object, "spec", "clientConfig", "caBundle")
	have, err := base64.StdEncoding.DecodeString(b64)
	return err == nil && bytes.Equal(have, ca)
}

// Run publishes the CA until ctx ends: it retries with backoff until the
// first success, then calls published (once) and checks again every
// Interval.
func (p *Publisher) Run(ctx context.Context, published func()) {
	interval, backoff, maxBackoff := p.Interval, p.Backoff, p.MaxBackoff
	if interval <= 0 {
		interval = time.Minute
	}
	if backoff <= 0 {
		backoff = time.Second
	}
	if maxBackoff <= 0 {
		maxBackoff = 30 * time.Second
	}
	logf := p.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	wait, done := backoff, false
	for {
		changed, err := p.Publish(ctx)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			logf("%v; trying again in %s", err, wait)
		default:
			if changed {
				logf("published the CA to ClusterInterceptor %s", p.Name)
			}
			// After the caBundle, never before: a Pod started earlier
			// would not trust the CA either. A failure here (say, RBAC
			// from an older release) leaves the EventListener's own
			// minute-by-minute reading to do it, so it does not hold up
			// readiness; the next round tries again.
			if restarted, rerr := p.RestartListener(ctx); rerr != nil && ctx.Err() == nil {
				logf("%v; the EventListener will trust the CA within a minute", rerr)
			} else if restarted {
				logf("marked EventListener %s/%s with the CA's digest: its Pods start again and trust it", p.Namespace, p.Listener)
			}
			if !done {
				done = true
				if published != nil {
					published()
				}
			}
		}
		next := interval
		if err != nil {
			next, wait = wait, min(2*wait, maxBackoff)
		} else {
			wait = backoff
		}
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
