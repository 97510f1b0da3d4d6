package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ruleflow/ruleflow/callouts"
	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// Result is what one event fired.
type Result struct {
	// Matches are the rules whose condition held, with the callouts each fired and
	// the ones it skipped (inactive, UDF empty), in configuration order.
	Matches []rules.Match
	// Fired lists every callout fired, in order, with its delivery.
	Fired []Fired
	// RuleErrors holds the rules whose condition could not be evaluated for this
	// event (a division by zero, say). Such a rule does not fire; the others do.
	RuleErrors error
}

// Fired is one callout fired by one rule.
type Fired struct {
	Rule    string            `json:"rule"`
	Callout string            `json:"callout"`
	Request *callouts.Request `json:"-"`
	// DeliveryID identifies the delivery in the outbox, and is the request's
	// Idempotency-Key. It is empty when the engine runs without an outbox.
	DeliveryID string `json:"delivery_id,omitempty"`
}

// deliveryPayload is what the outbox holds for one callout delivery: the request
// rendered when the event happened, and what the notification needs later.
type deliveryPayload struct {
	Request      *callouts.Request `json:"request"`
	TicketNumber string            `json:"ticket_number,omitempty"`
	Policy       callouts.Policy   `json:"policy"`
}

// Handle matches ev against the rules in force, renders every callout it fires and
// stores the deliveries durably before it returns: once Handle returns without an
// error, the callouts will be delivered (at least once) even if the process dies.
// If a request cannot be rendered or the store fails, nothing is enqueued and the
// error says why. A rule whose condition cannot be evaluated for this event does not
// fire; it is reported in Result.RuleErrors and the other rules fire as usual.
func (e *Engine) Handle(ctx context.Context, ev *rules.Event) (*Result, error) {
	if ev == nil {
		return nil, errors.New("engine: handle: nil event")
	}
	if e.closed.Load() {
		return nil, ErrClosed
	}
	state := e.cfg.Load()
	if ev.Time.IsZero() {
		// The caller's event is not ours to change (a host may share it).
		withTime := *ev
		withTime.Time = e.now()
		ev = &withTime
	}
	res, jobs, err := e.decide(state, ev)
	if err != nil {
		return nil, err
	}
	e.metrics.eventHandled(ev.Kind, len(res.Matches))
	if len(jobs) == 0 || e.store == nil {
		return res, nil
	}
	if err := e.store.Enqueue(ctx, jobs); err != nil {
		if errors.Is(err, store.ErrClosed) {
			err = ErrClosed // Close raced with this Handle
		}
		return nil, fmt.Errorf("engine: enqueue %d deliveries for %s %s %s: %w", len(jobs), ev.Form, ev.EntryID, ev.Kind, err)
	}
	for i := range jobs {
		res.Fired[i].DeliveryID = jobs[i].ID
	}
	e.metrics.enqueued(len(jobs))
	if e.disp != nil {
		e.disp.wake()
	}
	return res, nil
}

// decide matches ev and renders the requests of the callouts it fires, returning
// the outbox jobs (IDs assigned) without storing them.
func (e *Engine) decide(state *configState, ev *rules.Event) (*Result, []store.Job, error) {
	matches, ruleErrs := state.cfg.Match(ev)
	if ruleErrs != nil {
		e.log.Warn("engine: rule not evaluated", "form", ev.Form, "entry_id", ev.EntryID, "event", ev.Kind, "error", ruleErrs)
	}
	res := &Result{Matches: matches, RuleErrors: ruleErrs}
	if n := firedCount(matches); n > 0 {
		res.Fired = make([]Fired, 0, n)
	}
	var jobs []store.Job
	now := e.now()
	render := state.encoders.ForEvent(ev)
	for _, m := range matches {
		for _, c := range m.Fire {
			req, err := render.Render(c)
			if err != nil {
				return nil, nil, fmt.Errorf("engine: rule %q: %w", m.Rule.Name, err)
			}
			res.Fired = append(res.Fired, Fired{Rule: m.Rule.Name, Callout: c.Name, Request: req})
			if e.store == nil {
				continue
			}
			policy := callouts.PolicyFor(c.Retry)
			payload, err := json.Marshal(deliveryPayload{Request: req, TicketNumber: ticketNumber(state.cfg, ev), Policy: policy})
			if err != nil {
				return nil, nil, fmt.Errorf("engine: callout %q: encode delivery: %w", c.Name, err)
			}
			jobs = append(jobs, store.Job{
				ID:          store.NewID(store.JobIDPrefix, now),
				Kind:        store.KindCallout,
				Callout:     c.Name,
				Rule:        m.Rule.Name,
				Form:        ev.Form,
				EntryID:     ev.EntryID,
				EventKind:   string(ev.Kind),
				Payload:     payload,
				MaxAttempts: policy.Attempts(),
				CreatedAt:   now,
				NextAt:      now,
			})
		}
	}
	return res, jobs, nil
}

// firedCount is how many callouts the matches fire.
func firedCount(matches []rules.Match) int {
	n := 0
	for _, m := range matches {
		n += len(m.Fire)
	}
	return n
}

// ticketNumber is the value of the form's number field (callout_fields.number),
// which notifications name the ticket by.
func ticketNumber(cfg *rules.Config, ev *rules.Event) string {
	f, ok := cfg.Form(ev.Form)
	if !ok || f.CalloutFields.Number == "" {
		return ""
	}
	if v, ok := ev.Current()[f.CalloutFields.Number]; ok && v != nil {
		return fmt.Sprint(v)
	}
	return ""
}

// clockSince is time elapsed on the engine clock.
func (e *Engine) clockSince(t time.Time) time.Duration { return e.now().Sub(t) }
