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
	// RenderErrors holds the callouts whose request could not be rendered for this
	// event (a data-dependent error: an id value that is not an integer, say). Each
	// is also in Fired, with RenderError set and a delivery that fails without being
	// sent (its notification goes out per its policy); the other callouts fire as
	// usual.
	RenderErrors error
}

// Fired is one callout fired by one rule.
type Fired struct {
	Rule    string            `json:"rule"`
	Callout string            `json:"callout"`
	Request *callouts.Request `json:"-"`
	// DeliveryID identifies the delivery in the outbox, and is the request's
	// Idempotency-Key. It is empty when the engine runs without an outbox.
	DeliveryID string `json:"delivery_id,omitempty"`
	// RenderError is why the request could not be rendered for this event; Request
	// is then nil and the delivery is recorded as failed.
	RenderError string `json:"render_error,omitempty"`
}

// deliveryPayload is what the outbox holds for one callout delivery: the request
// rendered when the event happened, and what the notification needs later.
type deliveryPayload struct {
	Request *callouts.Request `json:"request"`
	// RenderError is set instead of Request when the request could not be rendered:
	// the delivery fails on its first attempt, unsent, with this reason.
	RenderError  string          `json:"render_error,omitempty"`
	TicketNumber string          `json:"ticket_number,omitempty"`
	Policy       callouts.Policy `json:"policy"`
	// Notify is the callout's notification policy when the event happened: it
	// decides the final e-mail if the callout is removed before the delivery ends.
	Notify *rules.Notify `json:"notify,omitempty"`
	// Origin is "api" for a webhook registered through the API (the egress guard
	// then refuses loopback), empty for the configuration file's callouts.
	Origin string `json:"origin,omitempty"`
}

// Handle matches ev against the rules in force, renders every callout it fires and
// stores the deliveries durably before it returns: once Handle returns without an
// error, the callouts will be delivered (at least once) even if the process dies.
// If the store fails, nothing is enqueued and the error says why. A rule whose
// condition cannot be evaluated for this event does not fire; it is reported in
// Result.RuleErrors and the other rules fire as usual. A callout whose request cannot
// be rendered for this event does not stop the others either: it is enqueued as a
// delivery that fails unsent with the render error as its reason (so it is listed,
// and notified per its policy), and reported in Result.RenderErrors.
func (e *Engine) Handle(ctx context.Context, ev *rules.Event) (*Result, error) {
	if ev == nil {
		return nil, errors.New("engine: handle: nil event")
	}
	res, err := e.handle(ctx, []*rules.Event{ev})
	if err != nil {
		var ee *EventError
		if errors.As(err, &ee) {
			ee.Index = -1 // not in a batch
		}
		return nil, err
	}
	return res[0], nil
}

// HandleBatch is Handle for several events at once, atomically: every event is
// checked first (an event the store cannot hold is an *EventError naming its index,
// and nothing is stored), then the deliveries of all of them are stored in one
// transaction, so either every event's deliveries are stored or none is.
func (e *Engine) HandleBatch(ctx context.Context, evs []*rules.Event) ([]*Result, error) {
	for i, ev := range evs {
		if ev == nil {
			return nil, &EventError{Index: i, Err: errors.New("nil event")}
		}
	}
	return e.handle(ctx, evs)
}

// handle checks, decides and enqueues evs with one Enqueue.
func (e *Engine) handle(ctx context.Context, evs []*rules.Event) ([]*Result, error) {
	if e.closed.Load() {
		return nil, ErrClosed
	}
	for i, ev := range evs {
		if err := checkStorable(ev); err != nil {
			return nil, &EventError{Index: i, Err: err}
		}
	}
	state := e.cfg.Load()
	results := make([]*Result, len(evs))
	var jobs []store.Job
	for i, ev := range evs {
		if ev.Time.IsZero() {
			// The caller's event is not ours to change (a host may share it).
			withTime := *ev
			withTime.Time = e.now()
			ev = &withTime
		}
		res, evJobs, err := e.decide(state, ev)
		if err != nil {
			return nil, err
		}
		e.metrics.eventHandled(ev.Kind, len(res.Matches))
		results[i] = res
		jobs = append(jobs, evJobs...)
	}
	if len(jobs) == 0 || e.store == nil {
		return results, nil
	}
	if err := e.store.Enqueue(ctx, jobs); err != nil {
		if errors.Is(err, store.ErrClosed) {
			err = ErrClosed // Close raced with this Handle
		}
		if len(evs) == 1 {
			ev := evs[0]
			return nil, fmt.Errorf("engine: enqueue %d deliveries for %s %s %s: %w", len(jobs), ev.Form, ev.EntryID, ev.Kind, err)
		}
		return nil, fmt.Errorf("engine: enqueue %d deliveries for %d events: %w", len(jobs), len(evs), err)
	}
	k := 0
	for _, res := range results {
		for i := range res.Fired {
			if e.store != nil {
				res.Fired[i].DeliveryID = jobs[k].ID
				k++
			}
		}
	}
	e.metrics.enqueued(len(jobs))
	if e.disp != nil {
		e.disp.wake()
	}
	return results, nil
}

// decide matches ev and renders the requests of the callouts it fires, returning
// the outbox jobs (IDs assigned) without storing them.
func (e *Engine) decide(state *configState, ev *rules.Event) (*Result, []store.Job, error) {
	matches, ruleErrs := state.cfg.Match(ev)
	if ruleErrs != nil {
		e.log.Warn("engine: rule not evaluated", "form", ev.Form, "entry_id", ev.EntryID, "event", ev.Kind, "error", ruleErrs)
	}
	res := &Result{Matches: matches, RuleErrors: ruleErrs}
	var jobs []store.Job
	now := e.now()
	var renderErrs []error
	for _, m := range matches {
		for _, c := range m.Fire {
			fired := Fired{Rule: m.Rule.Name, Callout: c.Name}
			policy := callouts.PolicyFor(c.Retry)
			dp := deliveryPayload{TicketNumber: ticketNumber(state.cfg, ev), Policy: policy, Notify: c.Notify, Origin: state.originOf(c)}
			maxAttempts := policy.Attempts()
			req, err := callouts.Render(state.cfg, c, ev)
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
			payload, err := json.Marshal(dp)
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
				MaxAttempts: maxAttempts,
				CreatedAt:   now,
				NextAt:      now,
			})
		}
	}
	res.RenderErrors = errors.Join(renderErrs...)
	return res, jobs, nil
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
