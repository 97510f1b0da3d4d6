package engine

import (
	"context"
	"net/http"

	"github.com/ruleflow/ruleflow/callouts"
	"github.com/ruleflow/ruleflow/callouts/egress"
	"github.com/ruleflow/ruleflow/rules"
)

// originAPI is the DeliveryPayload origin of a webhook registered through the API.
const originAPI = "api"

// egressPolicy is the guard's policy for cfg's egress block.
func egressPolicy(cfg *rules.Config) *egress.Policy {
	if cfg.Egress == nil {
		return &egress.Policy{}
	}
	return &egress.Policy{Allow: cfg.Egress.AllowRanges, Deny: cfg.Egress.DenyRanges, Strict: cfg.Egress.Strict}
}

// apiWebhookIDs is the set of the IDs of webhooks registered through the API.
func apiWebhookIDs(stored []*rules.Webhook) map[string]bool {
	ids := make(map[string]bool, len(stored))
	for _, w := range stored {
		ids[w.WebhookID] = true
	}
	return ids
}

// fromAPI reports whether callout c is the callback of a webhook registered through
// the API (rather than written in the configuration file).
func (s *configState) fromAPI(c *rules.Callout) bool {
	return c != nil && c.WebhookID != "" && s.apiWebhooks[c.WebhookID]
}

// originOf is the payload origin of a delivery of callout c.
func (s *configState) originOf(c *rules.Callout) string {
	if s.fromAPI(c) {
		return originAPI
	}
	return ""
}

// withEgressOrigin marks ctx for the egress guard: a delivery to an API-registered
// webhook gets the API rules. The origin recorded with the delivery when it was
// enqueued counts, and so does the callout's origin now, so neither an old
// delivery nor a re-registration can lift the API rules.
func withEgressOrigin(ctx context.Context, state *configState, c *rules.Callout, p *DeliveryPayload) context.Context {
	if p.Origin == originAPI || state.fromAPI(c) {
		return egress.WithOrigin(ctx, egress.FromAPI)
	}
	return egress.WithOrigin(ctx, egress.FromConfig)
}

// newHTTPClient is the client that sends callouts when Options.HTTPClient is nil:
// every connection is vetted by the egress guard under the policy of the
// configuration in force.
func (e *Engine) newHTTPClient() *http.Client {
	if e.opts.HTTPClient != nil {
		return e.opts.HTTPClient
	}
	return callouts.NewGuardedClient(e.opts.Resolver, func() *egress.Policy { return e.cfg.Load().egress })
}

// HTTPClient returns the client the engine sends callouts with. Unless
// Options.HTTPClient was set, it is guarded by the configuration's egress policy
// (followed across reloads); a host that makes other outbound calls on the
// configuration's behalf (ruleflow serve's notes forwarder) should use it too.
func (e *Engine) HTTPClient() *http.Client { return e.client }

// EgressPolicy returns the egress policy of the configuration in force.
func (e *Engine) EgressPolicy() *egress.Policy { return e.cfg.Load().egress }
