package engine

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// timerHistoryRules: Stale fires RMM (Off is switched off) and repeats once;
// Ratio's condition cannot be evaluated when Divisor is 0.
const timerHistoryRules = `
callouts:
  - {name: RMM, url: "{{URL}}/hook", format: json}
  - {name: Off, url: "{{URL}}/off", format: json, active: false}
rules:
  - name: Stale
    form: Ticket
    events: [time]
    at: {field: LastActivityDate, offset: 2h}
    condition: "'Status' != \"Complete\""
    callouts: [RMM, Off]
    repeat: {every: 1h, max: 1}
  - name: Ratio
    form: Ticket
    events: [time]
    at: {field: LastActivityDate, offset: 1h}
    condition: "'TicketID' / 'Divisor' > 1"
    callouts: [RMM]
`

// timeHistory returns the history entries of kind time of a record, oldest first.
func timeHistory(t *testing.T, e *Engine, id string) []HistoryEntry {
	t.Helper()
	hs, err := e.History(context.Background(), store.HistoryFilter{Form: "Ticket", EntryID: id})
	if err != nil {
		t.Fatal(err)
	}
	var out []HistoryEntry
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].Kind == "time" {
			out = append(out, hs[i])
		}
	}
	return out
}

func ptime(t time.Time) *time.Time { return &t }

// TestTimerHistory: every firing decision of the timer loop is in the event
// history with kind time — fired (with the delivery it enqueued), condition false,
// condition not evaluated, rule removed, record not found — with its rule, callouts
// and timer, written with the firing.
func TestTimerHistory(t *testing.T) {
	clock := newFakeClock(t0)
	e := timerEngine(t, clock, timerHistoryRules)
	save := func(id, status string, divisor int64) {
		ev := ticketSave(rules.KindCreate, id, status, t0, t0)
		ev.After["Divisor"] = divisor
		handle(t, e, ev)
	}
	save("1", "New", 0)
	save("2", "Complete", 2)
	if n := fireAt(t, e, clock, t0.Add(2*time.Hour)); n != 4 {
		t.Fatalf("settled %d timers, want 4", n)
	}
	jobs := timeJobs(t, e)
	if len(jobs) != 1 || jobs[0].EntryID != "1" {
		t.Fatalf("time jobs = %+v, want one for 1", jobs)
	}
	due1, due2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	opts := cmpopts.IgnoreFields(HistoryEntry{}, "ID", "Time", "Set")
	want1 := []HistoryEntry{{
		Kind: "time", Form: "Ticket", EntryID: "1",
		Rules:    []HistoryRule{{Name: "Ratio", Outcome: OutcomeError, Error: "qualification:1:12: division by zero\n'TicketID' / 'Divisor' > 1\n           ^"}},
		Callouts: []HistoryCallout{{Name: "RMM", Rule: "Ratio", Skipped: true, Reason: "rule error"}},
		Timer: &HistoryTimer{Due: due1, Anchor: t0, Repetition: 0,
			Reason: "condition not evaluated: rule \"Ratio\": qualification:1:12: division by zero\n'TicketID' / 'Divisor' > 1\n           ^"},
	}, {
		Kind: "time", Form: "Ticket", EntryID: "1",
		Rules: []HistoryRule{{Name: "Stale", Outcome: OutcomeTrue}},
		Callouts: []HistoryCallout{{Name: "RMM", Rule: "Stale", DeliveryID: jobs[0].ID},
			{Name: "Off", Rule: "Stale", Skipped: true, Reason: "inactive"}},
		Timer: &HistoryTimer{Due: due2, Anchor: t0, Repetition: 0, Fired: true, Next: ptime(due2.Add(time.Hour))},
	}}
	if diff := cmp.Diff(want1, timeHistory(t, e, "1"), opts); diff != "" {
		t.Errorf("time history of 1 (-want +got):\n%s", diff)
	}
	want2 := []HistoryEntry{{
		Kind: "time", Form: "Ticket", EntryID: "2",
		Rules:    []HistoryRule{{Name: "Ratio", Outcome: OutcomeFalse}},
		Callouts: []HistoryCallout{{Name: "RMM", Rule: "Ratio", Skipped: true, Reason: "rule false"}},
		Timer:    &HistoryTimer{Due: due1, Anchor: t0, Reason: "condition false"},
	}, {
		Kind: "time", Form: "Ticket", EntryID: "2",
		Rules: []HistoryRule{{Name: "Stale", Outcome: OutcomeFalse}},
		Callouts: []HistoryCallout{{Name: "RMM", Rule: "Stale", Skipped: true, Reason: "rule false"},
			{Name: "Off", Rule: "Stale", Skipped: true, Reason: "rule false"}},
		Timer: &HistoryTimer{Due: due2, Anchor: t0, Reason: "condition false", Next: ptime(due2.Add(time.Hour))},
	}}
	if diff := cmp.Diff(want2, timeHistory(t, e, "2"), opts); diff != "" {
		t.Errorf("time history of 2 (-want +got):\n%s", diff)
	}
	for _, h := range append(timeHistory(t, e, "1"), timeHistory(t, e, "2")...) {
		if !h.Time.Equal(t0.Add(2 * time.Hour)) {
			t.Errorf("entry %s at %v, want the firing's time %v", h.ID, h.Time, t0.Add(2*time.Hour))
		}
	}

	// The repetitions fall due after a reload that removed the rules.
	if err := e.Reload(parseConfig(t, "http://127.0.0.1:9", oneCallout)); err != nil {
		t.Fatal(err)
	}
	if n := fireAt(t, e, clock, t0.Add(4*time.Hour)); n != 2 {
		t.Fatalf("settled %d repetitions, want 2", n)
	}
	h := timeHistory(t, e, "2")
	want := HistoryEntry{Kind: "time", Form: "Ticket", EntryID: "2",
		Rules:    []HistoryRule{{Name: "Stale", Outcome: OutcomeFalse, Reason: "rule removed"}},
		Callouts: []HistoryCallout{},
		Timer:    &HistoryTimer{Due: due2.Add(time.Hour), Anchor: t0, Repetition: 1, Reason: "rule removed"}}
	if len(h) != 3 {
		t.Fatalf("%d time entries of 2 after the reload, want 3", len(h))
	}
	if diff := cmp.Diff(want, h[2], opts); diff != "" {
		t.Errorf("rule removed (-want +got):\n%s", diff)
	}
}

// TestTimerHistoryLookup: with a Lookup (claim, lookup, then FireTimers) a firing
// and a record that is gone are in the history too.
func TestTimerHistoryLookup(t *testing.T) {
	clock := newFakeClock(t0)
	lk := lookupFunc(func(_ context.Context, form, id string) (rules.Record, error) {
		if id == "gone" {
			return nil, ErrRecordNotFound
		}
		return rules.Record{"Status": "New"}, nil
	})
	e := openEngine(t, Options{Config: parseConfig(t, "http://127.0.0.1:9", timeRule), Store: sqliteDSN(t),
		NoDispatch: true, NoTimers: true, Now: clock.Now, Lookup: lk})
	handle(t, e, ticketSave(rules.KindCreate, "1", "New", t0, t0))
	handle(t, e, ticketSave(rules.KindCreate, "gone", "New", t0, t0))
	if n := fireAt(t, e, clock, t0.Add(3*time.Hour)); n != 2 {
		t.Fatalf("settled %d, want 2", n)
	}
	jobs := timeJobs(t, e)
	if len(jobs) != 1 {
		t.Fatalf("%d time jobs, want 1", len(jobs))
	}
	opts := cmpopts.IgnoreFields(HistoryEntry{}, "ID", "Time", "Set")
	due := t0.Add(2 * time.Hour)
	want := []HistoryEntry{{Kind: "time", Form: "Ticket", EntryID: "1",
		Rules:    []HistoryRule{{Name: "Stale", Outcome: OutcomeTrue}},
		Callouts: []HistoryCallout{{Name: "RMM", Rule: "Stale", DeliveryID: jobs[0].ID}},
		Timer:    &HistoryTimer{Due: due, Anchor: t0, Fired: true}}}
	if diff := cmp.Diff(want, timeHistory(t, e, "1"), opts); diff != "" {
		t.Errorf("fired (-want +got):\n%s", diff)
	}
	want = []HistoryEntry{{Kind: "time", Form: "Ticket", EntryID: "gone",
		Rules:    []HistoryRule{{Name: "Stale", Outcome: OutcomeFalse, Reason: "record not found"}},
		Callouts: []HistoryCallout{{Name: "RMM", Rule: "Stale", Skipped: true, Reason: "record not found"}},
		Timer:    &HistoryTimer{Due: due, Anchor: t0, Reason: "record not found"}}}
	if diff := cmp.Diff(want, timeHistory(t, e, "gone"), opts); diff != "" {
		t.Errorf("record not found (-want +got):\n%s", diff)
	}
}

// TestTimerHistoryOff: with history: {keep: 0} a time firing records nothing.
func TestTimerHistoryOff(t *testing.T) {
	clock := newFakeClock(t0)
	e := timerEngine(t, clock, timeRule+"history: {keep: 0}\n")
	handle(t, e, ticketSave(rules.KindCreate, "1", "New", t0, t0))
	handle(t, e, ticketSave(rules.KindCreate, "2", "Complete", t0, t0))
	if n := fireAt(t, e, clock, t0.Add(3*time.Hour)); n != 2 || len(timeJobs(t, e)) != 1 {
		t.Fatalf("settled %d, %d jobs; want 2 and 1", n, len(timeJobs(t, e)))
	}
	hs, err := e.History(context.Background(), store.HistoryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 0 {
		t.Errorf("history off, yet %d entries: %+v", len(hs), hs)
	}
}
