package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	// Set lists the values the rules set, in the order applied, each typed as the
	// form says; the host applies them to the record before it commits (actions.go).
	Set []rules.Assignment
	// Rejected is the rule that refused the save, or nil when it is accepted.
	// Nothing is enqueued for a rejected event.
	Rejected *rules.Rejection
	// Limited lists the changes the cascade limits stopped (rules.Outcome.Limited).
	Limited []rules.Limit
	// RenderErrors holds the callouts whose request could not be rendered for this
	// event (a data-dependent error: an id value that is not an integer, say). Each
	// is also in Fired, with RenderError set and a delivery that fails without being
	// sent (its notification goes out per its policy); the other callouts fire as
	// usual.
	RenderErrors error

	final *rules.Event // the event with the rules' values applied: what time rules arm from
}

// Fired is one callout fired by one rule.
type Fired struct {
	Rule    string `json:"rule"`
	Callout string `json:"callout"`
	// Request is what is delivered: read-only (its Header map is shared by the
	// requests of the callout, see callouts.Encoders.ForEventReadOnly).
	Request *callouts.Request `json:"-"`
	// DeliveryID identifies the delivery in the outbox, and is the request's
	// Idempotency-Key. It is empty when the engine runs without an outbox.
	DeliveryID string `json:"delivery_id,omitempty"`
	// RenderError is why the request could not be rendered for this event; Request
	// is then nil and the delivery is recorded as failed.
	RenderError string `json:"render_error,omitempty"`
}

// DeliveryPayload is what the outbox holds for one callout delivery (the Payload of
// a store.Job of kind callout, as JSON): the request rendered when the event
// happened, and what the notification needs later. The deliveries API reads it to
// show the request.
type DeliveryPayload struct {
	Request *callouts.Request `json:"request"`
	// RenderError is set instead of Request when the request could not be rendered:
	// the delivery fails on its first attempt, unsent, with this reason.
	RenderError  string          `json:"render_error,omitempty"`
	TicketNumber string          `json:"ticket_number,omitempty"`
	Policy       callouts.Policy `json:"policy"`
	// Notify is the callout's notification policy when the event happened: it
	// decides the final e-mail if the callout is removed before the delivery ends.
	Notify *rules.Notify `json:"notify,omitempty"`
	// Recipients are Notify's to entries resolved when the event happened
	// (resources, roles, field: values as of the save).
	Recipients []string `json:"recipients,omitempty"`
	// Origin is "api" for a webhook registered through the API (the egress guard
	// then refuses loopback), empty for the configuration file's callouts.
	Origin string `json:"origin,omitempty"`
	// TraceParent is the W3C traceparent of the span of the event that enqueued
	// the delivery, when tracing is on: each attempt's span is its child.
	TraceParent string `json:"traceparent,omitempty"`
}

// Handle runs ev through the rules in force (with their actions: set, reject,
// notify), renders every callout it fires with the final values and stores the
// deliveries durably before it returns: once Handle returns without an error, the
// callouts will be delivered (at least once) even if the process dies. A rejected
// event enqueues nothing and returns a Result with Rejected set. If the store
// fails, nothing is enqueued and the error says why. A rule whose condition cannot
// be evaluated for this event does not fire; it is reported in Result.RuleErrors
// and the other rules fire as usual. A callout whose request cannot be rendered for
// this event does not stop the others either: it is enqueued as a delivery that
// fails unsent with the render error as its reason (so it is listed, and notified
// per its policy), and reported in Result.RenderErrors.
func (e *Engine) Handle(ctx context.Context, ev *rules.Event) (*Result, error) {
	if ev == nil {
		return nil, errors.New("engine: handle: nil event")
	}
	res, err := e.HandleBatch(ctx, []*rules.Event{ev})
	if err != nil {
		var ee *EventError
		if errors.As(err, &ee) {
			ee.Index = -1 // not in a batch
		}
		return nil, err
	}
	return res[0], nil
}

// decide matches ev and renders the requests of the callouts it fires, returning
// the outbox jobs (IDs assigned) without storing them, and beside each callout job
// its payload as rendered (nil for the other jobs), which the fast path hands to a
// worker without decoding the stored form.
func (e *Engine) decide(state *configState, ev *rules.Event) (*Result, []store.Job, []*DeliveryPayload, error) {
	out := state.cfg.Run(ev)
	matches, ruleErrs := out.Matches, out.Errors
	if ruleErrs != nil {
		e.log.Warn("engine: rule not evaluated", "form", ev.Form, "entry_id", ev.EntryID, "event", ev.Kind, "error", ruleErrs)
	}
	res := &Result{Matches: matches, RuleErrors: ruleErrs}
	if e.applyOutcome(res, out) {
		return res, nil, nil, nil // rejected: nothing is rendered or enqueued
	}
	ev = out.Event // callouts render the final values
	res.final = ev
	jobs, dps, err := e.renderMatches(state, ev, res)
	if err != nil {
		return nil, nil, nil, err
	}
	return res, jobs, dps, nil
}

// renderMatches renders the requests of the callouts res.Matches fire for ev (the
// final values), appending each to res.Fired, and returns their outbox jobs (IDs
// assigned) with the rules' notification e-mails, and the delivery payload of each
// callout job (nil for the others), without storing them. A save and a time-based
// firing go through it alike.
func (e *Engine) renderMatches(state *configState, ev *rules.Event, res *Result) ([]store.Job, []*DeliveryPayload, error) {
	matches := res.Matches
	var jobs []store.Job
	var dps []*DeliveryPayload
	now := e.now()
	var renderErrs []error
	var number string // the event's ticket number, for all its callouts
	n := firedCount(matches)
	if n > 0 {
		number = ticketNumber(state.cfg, ev)
		res.Fired = slices.Grow(res.Fired, n)
	}
	// The requests are stored and sent as rendered, never modified (Fired.Request):
	// they may share their callout's header map.
	render := state.encoders.ForEventReadOnly(ev, n)
	for _, m := range matches {
		for _, c := range m.Fire {
			fired := Fired{Rule: m.Rule.Name, Callout: c.Name}
			policy := callouts.PolicyFor(c.Retry)
			dp := DeliveryPayload{TicketNumber: number, Policy: policy, Notify: c.Notify, Origin: state.originOf(c)}
			if c.Notify != nil {
				dp.Recipients = e.recipients(state.cfg, c.Notify, ev, "callout", c.Name)
			}
			maxAttempts := policy.Attempts()
			req, err := render.Render(c)
			if err != nil {
				// Isolated: this callout fails alone, visibly; the others fire.
				err = fmt.Errorf("rule %q: %w", m.Rule.Name, err)
				e.log.Error("engine: callout not rendered; its delivery fails unsent", "form", ev.Form, "entry_id", ev.EntryID, "event", ev.Kind, "error", err)
				renderErrs = append(renderErrs, err)
				fired.RenderError, dp.RenderError, maxAttempts = err.Error(), err.Error(), 1
			}
			fired.Request, dp.Request = req, req
			res.Fired = append(res.Fired, fired)
			if e.store == nil {
				continue
			}
			stored := new(DeliveryPayload) // only with a store: a dry run allocates none
			*stored = dp
			payload, err := EncodeDeliveryPayload(stored)
			if err != nil {
				return nil, nil, fmt.Errorf("engine: callout %q: encode delivery: %w", c.Name, err)
			}
			dps = append(dps, stored)
			jobs = append(jobs, store.Job{
				ID:          store.NewID(store.JobIDPrefix, now),
				Kind:        store.KindCallout,
				Callout:     c.Name,
				Rule:        m.Rule.Name,
				Form:        ev.Form,
				EntryID:     ev.EntryID,
				EventKind:   string(ev.Kind),
				Payload:     payload,
				MaxAttempts: maxAttempts,
				CreatedAt:   now,
				NextAt:      now,
			})
		}
	}
	jobs = append(jobs, e.ruleNotifications(state, ev, res, now)...)
	for len(dps) < len(jobs) {
		dps = append(dps, nil)
	}
	res.RenderErrors = errors.Join(renderErrs...)
	return jobs, dps, nil
}

// ticketNumber is the value of the form's number field (callout_fields.number),
// which notifications name the ticket by.
func ticketNumber(cfg *rules.Config, ev *rules.Event) string {
	f, ok := cfg.Form(ev.Form)
	if !ok || f.CalloutFields.Number == "" {
		return ""
	}
	if v, ok := ev.Current()[f.CalloutFields.Number]; ok && v != nil {
		if s, isString := v.(string); isString {
			return s // what fmt.Sprint gives, without a copy
		}
		return fmt.Sprint(v)
	}
	return ""
}

// firedCount is the number of callouts matches fire.
func firedCount(matches []rules.Match) int {
	n := 0
	for _, m := range matches {
		n += len(m.Fire)
	}
	return n
}

// clockSince is time elapsed on the engine clock.
func (e *Engine) clockSince(t time.Time) time.Duration { return e.now().Sub(t) }
