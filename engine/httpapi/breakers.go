package httpapi

import (
	"context"
	"time"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/rules"
)

// breakerLister is the optional method of a Backend that reports the circuit
// breakers of callout endpoints (*engine.Engine has it).
type breakerLister interface {
	Breakers(ctx context.Context) ([]engine.BreakerState, error)
}

// breakerJSON is a circuit breaker as GET /v1/deliveries shows it.
type breakerJSON struct {
	Endpoint  string     `json:"endpoint"`
	State     string     `json:"state"` // closed, open or half_open
	Failures  int        `json:"failures"`
	Cooldown  string     `json:"cooldown,omitempty"`
	OpenedAt  *time.Time `json:"opened_at,omitempty"`
	OpenUntil *time.Time `json:"open_until,omitempty"`
	Callouts  []string   `json:"callouts,omitempty"`
}

// deliveryBreaker is the breaker a pending delivery waits for.
type deliveryBreaker struct {
	Endpoint  string     `json:"endpoint"`
	State     string     `json:"state"`
	OpenUntil *time.Time `json:"open_until,omitempty"`
}

// addBreakers adds to a delivery list the breakers that have recorded failures and,
// on each pending callout delivery whose endpoint's breaker is not closed, that
// breaker. A backend without breakers, or a failed read, adds nothing.
func (h *Handler) addBreakers(ctx context.Context, out *deliveryList) {
	bl, ok := h.eng.(breakerLister)
	if !ok {
		return
	}
	bs, err := bl.Breakers(ctx)
	if err != nil {
		h.log.Warn("httpapi: read circuit breakers", "error", err)
		return
	}
	notClosed := map[string]engine.BreakerState{}
	for _, b := range bs {
		if b.State == "closed" && b.Failures == 0 {
			continue
		}
		j := breakerJSON{Endpoint: b.Endpoint, State: b.State, Failures: b.Failures, OpenedAt: timePtr(b.OpenedAt),
			OpenUntil: timePtr(b.OpenUntil), Callouts: b.Callouts}
		if b.Cooldown > 0 {
			j.Cooldown = b.Cooldown.String()
		}
		out.Breakers = append(out.Breakers, j)
		if b.State != "closed" {
			notClosed[b.Endpoint] = b
		}
	}
	if len(notClosed) == 0 {
		return
	}
	cfg := h.eng.Config()
	for i := range out.Deliveries {
		d := &out.Deliveries[i]
		if d.Kind != "callout" || d.Status != "pending" {
			continue
		}
		c, ok := cfg.Callout(d.Callout)
		if !ok {
			continue
		}
		if b, ok := notClosed[rules.Endpoint(c.URL)]; ok {
			d.Breaker = &deliveryBreaker{Endpoint: b.Endpoint, State: b.State, OpenUntil: timePtr(b.OpenUntil)}
		}
	}
}
