package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/notify"
	"github.com/ruleflow/ruleflow/rules"
)

// HandleBatch handles events that a host saves together (a batch of one is what
// Handle does), atomically. Every event is checked first: one the store cannot hold
// is an *EventError naming its index, and nothing is stored. Then every event is
// decided: the rules run with their actions and the fired callouts are rendered.
// When a rule rejects any of the events, nothing is enqueued for any of them; the
// results are returned and the rejected one has Result.Rejected set (the others
// show what would have fired, without delivery IDs). Otherwise all deliveries and
// notification e-mails of all events are stored in one transaction before
// HandleBatch returns, so either every event's deliveries are stored or none is.
func (e *Engine) HandleBatch(ctx context.Context, evs []*rules.Event) ([]*Result, error) {
	if e.tr != nil {
		return e.handleBatchTraced(ctx, evs) // telemetry.go
	}
	return e.handleBatch(ctx, evs, nil)
}

// handleBatch is HandleBatch; parents, when tracing, are the traceparents of the
// events' spans, stored with their jobs.
func (e *Engine) handleBatch(ctx context.Context, evs []*rules.Event, parents []string) ([]*Result, error) {
	if e.closed.Load() {
		return nil, ErrClosed
	}
	for i, ev := range evs {
		if ev == nil {
			return nil, &EventError{Index: i, Err: errors.New("nil event")}
		}
		if err := checkStorable(ev); err != nil {
			return nil, &EventError{Index: i, Err: err}
		}
	}
	state := e.cfg.Load()
	results := make([]*Result, len(evs))
	jobsOf := make([][]store.Job, len(evs))
	dpsOf := make([][]*DeliveryPayload, len(evs))
	rejected, total := false, 0
	var handled []*rules.Event // with their time set, for the history (history.go)
	if e.historyOn(state) {
		handled = make([]*rules.Event, len(evs))
	}
	for i, ev := range evs {
		if ev.Time.IsZero() {
			// The caller's event is not ours to change (a host may share it).
			withTime := *ev
			withTime.Time = e.now()
			ev = &withTime
		}
		res, jobs, dps, err := e.decide(state, ev)
		if err != nil {
			if len(evs) > 1 {
				err = fmt.Errorf("event %d: %w (nothing was enqueued for the %d events)", i, err, len(evs))
			}
			return nil, err
		}
		e.metrics.eventHandled(ev.Kind, len(res.Matches))
		results[i], jobsOf[i], dpsOf[i] = res, jobs, dps
		if handled != nil {
			handled[i] = ev
		}
		if parents != nil {
			stampTraceParent(jobs, dps, parents[i])
		}
		rejected = rejected || res.Rejected != nil
		total += len(jobs)
	}
	var arming *store.Arming
	if !rejected {
		arming = e.armBatch(state, results)
	}
	hist := e.historyOf(ctx, state, handled, results, jobsOf, rejected)
	if rejected || (total == 0 && arming.Empty()) || e.store == nil {
		e.appendHistory(ctx, hist) // nothing to wait for: queued, not awaited
		e.fires.count(results, rejected)
		return results, nil
	}
	all := make([]store.Job, 0, total)
	dps := make([]*DeliveryPayload, 0, total)
	for i, jobs := range jobsOf {
		all = append(all, jobs...)
		dps = append(dps, dpsOf[i]...)
	}
	if err := e.enqueueArming(ctx, all, dps, hist, arming); err != nil {
		if errors.Is(err, store.ErrClosed) {
			err = ErrClosed // Close raced with this Handle
		}
		if len(evs) == 1 {
			ev := evs[0]
			return nil, fmt.Errorf("engine: enqueue %d deliveries for %s %s %s: %w", len(all), ev.Form, ev.EntryID, ev.Kind, err)
		}
		return nil, fmt.Errorf("engine: enqueue %d deliveries for %d events: %w", len(all), len(evs), err)
	}
	for i, res := range results {
		for k := range res.Fired { // the callout jobs come first, in Fired order
			res.Fired[k].DeliveryID = jobsOf[i][k].ID
		}
	}
	e.metrics.enqueued(total)
	e.fires.count(results, false)
	return results, nil
}

// enqueueArming stores a save's jobs and history with the timers it arms in one
// transaction (store.EnqueueArming), or, when it arms nothing, as enqueue does
// (fastpath.go).
func (e *Engine) enqueueArming(ctx context.Context, jobs []store.Job, dps []*DeliveryPayload, hist []store.HistoryRecord, a *store.Arming) error {
	if a.Empty() {
		return e.enqueue(ctx, jobs, dps, hist)
	}
	if err := e.store.EnqueueArming(ctx, jobs, hist, a, e.now()); err != nil {
		return err
	}
	if e.disp != nil && len(jobs) > 0 {
		e.disp.wake()
	}
	e.wakeTimers()
	return nil
}

// applyOutcome copies what the rules' actions did into res, logs and counts it,
// and reports whether the event was rejected.
func (e *Engine) applyOutcome(res *Result, out *rules.Outcome) bool {
	ev := out.Event
	res.Set, res.Rejected, res.Limited = out.Set, out.Rejected, out.Limited
	if len(out.Limited) > 0 {
		for _, l := range out.Limited {
			e.log.Warn("engine: rule cascade stopped a change", "form", ev.Form, "entry_id", ev.EntryID, "event", ev.Kind, "rule", l.Rule, "reason", l.Reason, "passes", out.Passes)
		}
	}
	if out.Rejected != nil {
		e.log.Info("engine: save rejected", "form", ev.Form, "entry_id", ev.EntryID, "event", ev.Kind, "rule", out.Rejected.Rule, "message", out.Rejected.Message)
	}
	e.metrics.actionCounters().record(out)
	return out.Rejected != nil
}

// ruleNotifications returns one e-mail job per fired rule with a notify block:
// the e-mail says which rule fired for which record, and what the rules set.
// Like callout notifications it is durable, retried, and followed by a note.
func (e *Engine) ruleNotifications(state *configState, ev *rules.Event, res *Result, now time.Time) []store.Job {
	if e.store == nil {
		return nil
	}
	var jobs []store.Job
	for _, m := range res.Matches {
		n := m.Rule.Notify
		if n == nil {
			continue
		}
		n = withRecipients(state.cfg, n, e.recipients(state.cfg, n, ev, "rule", m.Rule.Name))
		if !notify.ShouldNotify(n, false) {
			continue
		}
		id := store.NewID(store.JobIDPrefix, now)
		msg := ruleMessage(state.cfg, m.Rule, ev, res.Set, id)
		msg.To = n.To
		payload, err := json.Marshal(emailPayload{Message: msg, Form: ev.Form, EntryID: ev.EntryID})
		if err != nil {
			e.log.Error("engine: encode rule notification", "rule", m.Rule.Name, "error", err)
			continue
		}
		jobs = append(jobs, store.Job{
			ID: id, Kind: store.KindEmail, Rule: m.Rule.Name, Form: ev.Form, EntryID: ev.EntryID,
			EventKind: string(ev.Kind), Payload: payload, MaxAttempts: mailMaxAttempts, CreatedAt: now, NextAt: now,
		})
	}
	return jobs
}

// ruleMessage is the e-mail of one rule firing.
func ruleMessage(cfg *rules.Config, r *rules.Rule, ev *rules.Event, set []rules.Assignment, id string) notify.Message {
	loc := cfg.Location
	if loc == nil {
		loc = time.UTC
	}
	record := ev.EntryID
	if num := ticketNumber(cfg, ev); num != "" {
		record = num
		if ev.EntryID != "" && ev.EntryID != num {
			record += " (entry " + ev.EntryID + ")"
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Rule %q fired.\n\n", r.Name)
	fmt.Fprintf(&b, "Form:   %s\n", ev.Form)
	fmt.Fprintf(&b, "Record: %s\n", record)
	fmt.Fprintf(&b, "Event:  %s", ev.Kind)
	if ev.User != "" {
		fmt.Fprintf(&b, " by %s", ev.User)
	}
	fmt.Fprintf(&b, " at %s\n", ev.Time.In(loc).Format(notify.DateTimeLayout))
	for i, a := range set {
		if i == 0 {
			b.WriteString("\nValues set by the rules:\n")
		}
		fmt.Fprintf(&b, "  %s = %s (rule %q)\n", a.Field, FormatValue(a.Value, loc), a.Rule)
	}
	return notify.Message{
		To:        r.Notify.To,
		Subject:   fmt.Sprintf("ruleflow: rule %q fired for %s %s", r.Name, ev.Form, record),
		Text:      b.String(),
		MessageID: "<" + id + "@ruleflow>",
	}
}

// FormatValue writes a record value as an AR expression would: character values
// quoted, date-times in RFC 3339 in loc, NULL as $NULL$.
func FormatValue(v any, loc *time.Location) string {
	switch x := v.(type) {
	case nil:
		return "$NULL$"
	case string:
		return `"` + strings.ReplaceAll(x, `"`, `""`) + `"`
	case time.Time:
		return x.In(loc).Format(time.RFC3339)
	case *rules.Attachment:
		return "attachment " + fmt.Sprintf("%q", x.Name)
	}
	return fmt.Sprint(v)
}

// SetJSON returns the values a result set as a JSON object, field → final value,
// keys in the order the fields were first set. Date-times are RFC 3339 in loc.
func SetJSON(set []rules.Assignment, loc *time.Location) json.RawMessage {
	var order []string
	final := map[string]any{}
	for _, a := range set {
		if _, ok := final[a.Field]; !ok {
			order = append(order, a.Field)
		}
		final[a.Field] = a.Value
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range order {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f)
		v := final[f]
		if t, ok := v.(time.Time); ok && loc != nil {
			v = t.In(loc)
		}
		val, err := json.Marshal(v)
		if err != nil {
			val = []byte("null")
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return json.RawMessage(b.String())
}

// actionMetrics count what the rules' actions did.
type actionMetrics struct {
	set, rejected, limited prometheus.Counter
}

func newActionMetrics(reg prometheus.Registerer) *actionMetrics {
	m := &actionMetrics{
		set: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "ruleflow", Name: "rule_values_set_total", Help: "Field values set by rules.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "ruleflow", Name: "saves_rejected_total", Help: "Events a rule rejected.",
		}),
		limited: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "ruleflow", Name: "rule_cascade_limited_total", Help: "Rule changes the cascade limits stopped (5 passes, each rule once per event).",
		}),
	}
	reg.MustRegister(m.set, m.rejected, m.limited)
	return m
}

func (m *actionMetrics) record(out *rules.Outcome) {
	if m == nil {
		return
	}
	if n := len(out.Set); n > 0 {
		m.set.Add(float64(n))
	}
	if out.Rejected != nil {
		m.rejected.Inc()
	}
	if n := len(out.Limited); n > 0 {
		m.limited.Add(float64(n))
	}
}

func (m *metrics) actionCounters() *actionMetrics {
	if m == nil {
		return nil
	}
	return m.actions
}
