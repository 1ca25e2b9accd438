package canary

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Webhook types: the points of a release at which Flagger calls its
// webhooks, with the same meaning.
const (
	// PreRollout runs once the canary is available, before it gets any
	// traffic (an acceptance test): a failure rolls back with no traffic
	// shifted.
	PreRollout = "pre-rollout"
	// Rollout runs at every sample, before the metrics are read (a load
	// test): a failure is a failing sample.
	Rollout = "rollout"
	// ConfirmPromotion runs after the last step passed: the release waits,
	// asking again every interval, until it answers 2xx (a manual gate).
	ConfirmPromotion = "confirm-promotion"
)

// Webhook is one HTTP call: a POST of WebhookPayload as JSON; any 2xx
// answer within the timeout is a success.
type Webhook struct {
	Name     string
	Type     string
	URL      string
	Timeout  time.Duration // default DefaultWebhookTimeout
	Metadata map[string]string
	Client   *http.Client
}

// WebhookPayload is what a webhook receives, Flagger's fields.
type WebhookPayload struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Phase     string            `json:"phase"`
	Image     string            `json:"image"`
	Weight    int               `json:"weight"`
	Metadata  map[string]string `json:"metadata,omitempty"`
}

// WebhookSpec is a webhook as the config and --webhooks write it.
type WebhookSpec struct {
	Name     string            `json:"name"`
	Type     string            `json:"type"`
	URL      string            `json:"url"`
	Timeout  string            `json:"timeout,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Webhook turns s into a Webhook, checking it.
func (s WebhookSpec) Webhook() (Webhook, error) {
	h := Webhook{Name: s.Name, Type: s.Type, URL: s.URL, Metadata: s.Metadata}
	if s.Timeout != "" {
		d, err := time.ParseDuration(s.Timeout)
		if err != nil || d <= 0 {
			return h, fmt.Errorf("webhook %s: timeout %q: want a positive duration such as 30s", s.Name, s.Timeout)
		}
		h.Timeout = d
	}
	return h, h.validate()
}

// ParseWebhooks reads a JSON list of WebhookSpec.
func ParseWebhooks(s string) ([]Webhook, error) {
	var specs []WebhookSpec
	if err := strictJSON(s, &specs); err != nil {
		return nil, fmt.Errorf("want a JSON list of {name, type, url, timeout, metadata}: %w", err)
	}
	var hs []Webhook
	for _, sp := range specs {
		h, err := sp.Webhook()
		if err != nil {
			return nil, err
		}
		hs = append(hs, h)
	}
	return hs, nil
}

func (h Webhook) validate() error {
	if h.Name == "" {
		return errors.New("a webhook without a name")
	}
	switch h.Type {
	case PreRollout, Rollout, ConfirmPromotion:
	default:
		return fmt.Errorf("webhook %s: type %q: want %s, %s or %s", h.Name, h.Type, PreRollout, Rollout, ConfirmPromotion)
	}
	u, err := url.Parse(h.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("webhook %s: url %.100q: want an http or https URL", h.Name, h.URL)
	}
	if h.Timeout < 0 {
		return fmt.Errorf("webhook %s: negative timeout", h.Name)
	}
	return nil
}

// call posts p to the webhook and returns nil for a 2xx answer.
func (h Webhook) call(ctx context.Context, p WebhookPayload) error {
	timeout := h.Timeout
	if timeout == 0 {
		timeout = DefaultWebhookTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p.Metadata = h.Metadata
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: %w", h.Name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("webhook %s: no answer within %s", h.Name, timeout)
		}
		return fmt.Errorf("webhook %s: %w", h.Name, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook %s: %s: %s", h.Name, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// hooks calls every webhook of type t in order and returns the first
// failure.
func (rl *release) hooks(ctx context.Context, t, phase string) error {
	for _, h := range rl.cfg.Webhooks {
		if h.Type != t {
			continue
		}
		err := h.call(ctx, WebhookPayload{Name: rl.cfg.App, Namespace: rl.cfg.Namespace, Phase: phase, Image: rl.cfg.Image, Weight: rl.st.Weight})
		if err != nil {
			return err
		}
		rl.logf("%s webhook %s: ok", t, h.Name)
	}
	return nil
}
