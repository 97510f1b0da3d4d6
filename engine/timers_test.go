package engine

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// timeRule fires two hours after a ticket's last activity while it is not complete.
const timeRule = `
callouts:
  - {name: RMM, url: "{{URL}}/hook", format: json}
rules:
  - name: Stale
    form: Ticket
    events: [time]
    at: {field: LastActivityDate, offset: 2h}
    condition: "'Status' != \"Complete\""
    callouts: [RMM]
`

// fakeClock is an engine clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// t0 is the tests' base time.
var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// ticketSave is a create (or an update) of ticket id with the given status and last
// activity (nil: NULL), at time at.
func ticketSave(kind rules.Kind, id, status string, last any, at time.Time) *rules.Event {
	rec := rules.Record{"TicketID": int64(len(id)), "TicketNumber": "T" + id, "Status": status, "LastActivityDate": last}
	ev := &rules.Event{Kind: kind, Form: "Ticket", EntryID: id, User: "jsmith", Time: at, After: rec}
	if kind == rules.KindUpdate {
		ev.Before = rules.Record{"TicketID": int64(len(id)), "TicketNumber": "T" + id}
	}
	if kind == rules.KindDelete {
		ev.Before, ev.After = rec, nil
	}
	return ev
}

// timerEngine opens an engine on a fresh SQLite store with clock, whose timers fire
// only when the test calls FireDueTimers (NoTimers) and which delivers nothing.
func timerEngine(t *testing.T, clock *fakeClock, body string) *Engine {
	t.Helper()
	return openEngine(t, Options{Config: parseConfig(t, "http://127.0.0.1:9", body), Store: sqliteDSN(t),
		NoDispatch: true, NoTimers: true, Now: clock.Now, NodeID: "timer-test"})
}

func handle(t *testing.T, e *Engine, ev *rules.Event) *Result {
	t.Helper()
	res, err := e.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	return res
}

// fireAt moves the clock to at and fires what is due; it returns the timers settled.
func fireAt(t *testing.T, e *Engine, clock *fakeClock, at time.Time) int {
	t.Helper()
	clock.Set(at)
	n, err := e.FireDueTimers(context.Background())
	if err != nil {
		t.Fatalf("FireDueTimers: %v", err)
	}
	return n
}

// timeJobs returns the callout jobs time firings enqueued, in ID order.
func timeJobs(t *testing.T, e *Engine) []store.Job {
	t.Helper()
	var out []store.Job
	for _, j := range jobsOf(t, e.Store(), store.KindCallout) {
		if j.EventKind == string(rules.KindTime) {
			out = append(out, j)
		}
	}
	return out
}

func listTimers(t *testing.T, e *Engine, f store.TimerFilter) []store.Timer {
	t.Helper()
	ts, err := e.Store().ListTimers(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestTimerFiresOnceAndReArmsOnAnchorChange(t *testing.T) {
	clock := newFakeClock(t0)
	e := timerEngine(t, clock, timeRule)
	handle(t, e, ticketSave(rules.KindCreate, "1", "New", t0, t0))
	ts := listTimers(t, e, store.TimerFilter{})
	if len(ts) != 1 || ts[0].Rule != "Stale" || ts[0].EntryID != "1" || !ts[0].DueAt.Equal(t0.Add(2*time.Hour)) || ts[0].State != store.TimerArmed {
		t.Fatalf("timers = %+v, want Stale for 1 due %v", ts, t0.Add(2*time.Hour))
	}
	if n := fireAt(t, e, clock, t0.Add(2*time.Hour-time.Second)); n != 0 {
		t.Fatalf("fired %d timers a second early", n)
	}
	// A save that keeps the anchor neither delays nor repeats the timer.
	handle(t, e, ticketSave(rules.KindUpdate, "1", "In Progress", t0, t0.Add(time.Hour)))
	if n := fireAt(t, e, clock, t0.Add(2*time.Hour)); n != 1 {
		t.Fatalf("fired %d timers at the due time, want 1", n)
	}
	jobs := timeJobs(t, e)
	if len(jobs) != 1 || jobs[0].Rule != "Stale" || jobs[0].Callout != "RMM" || jobs[0].EntryID != "1" {
		t.Fatalf("jobs = %+v", jobs)
	}
	dp, err := DecodeDeliveryPayload(jobs[0].Payload)
	if err != nil {
		t.Fatal(err)
	}
	// The callout renders as for a save: the snapshot's values (the last update's status).
	if body := string(dp.Request.Body); !strings.Contains(body, `"entry_event":"time"`) || !strings.Contains(body, `"In Progress"`) {
		t.Errorf("body = %s, want the time event with the last values", body)
	}
	if n := fireAt(t, e, clock, t0.Add(5*time.Hour)); n != 0 {
		t.Fatalf("fired %d timers again", n)
	}
	handle(t, e, ticketSave(rules.KindUpdate, "1", "In Progress", t0, t0.Add(5*time.Hour)))
	if n := fireAt(t, e, clock, t0.Add(6*time.Hour)); n != 0 || len(timeJobs(t, e)) != 1 {
		t.Fatalf("a save with the same anchor fired the timer again (%d)", n)
	}
	// A moved anchor fires again, once, at the new time.
	moved := t0.Add(10 * time.Hour)
	handle(t, e, ticketSave(rules.KindUpdate, "1", "In Progress", moved, t0.Add(6*time.Hour)))
	if n := fireAt(t, e, clock, moved.Add(2*time.Hour-time.Millisecond)); n != 0 {
		t.Fatalf("fired %d before the moved due time", n)
	}
	if n := fireAt(t, e, clock, moved.Add(2*time.Hour)); n != 1 {
		t.Fatalf("fired %d at the moved due time, want 1", n)
	}
	if n := fireAt(t, e, clock, moved.Add(20*time.Hour)); n != 0 || len(timeJobs(t, e)) != 2 {
		t.Fatalf("jobs = %d, want 2", len(timeJobs(t, e)))
	}
	done := listTimers(t, e, store.TimerFilter{State: store.TimerDone})
	if len(done) != 1 || done[0].Fired != 1 || !done[0].Anchor.Equal(moved) {
		t.Fatalf("done timers = %+v", done)
	}
}

func TestTimerDeleteCancels(t *testing.T) {
	clock := newFakeClock(t0)
	e := timerEngine(t, clock, timeRule)
	handle(t, e, ticketSave(rules.KindCreate, "1", "New", t0, t0))
	handle(t, e, ticketSave(rules.KindCreate, "2", "New", t0, t0))
	handle(t, e, ticketSave(rules.KindDelete, "1", "New", t0, t0.Add(time.Minute)))
	if ts := listTimers(t, e, store.TimerFilter{All: true, EntryID: "1"}); len(ts) != 0 {
		t.Fatalf("timers of the deleted record = %+v", ts)
	}
	if _, err := e.Store().Snapshot(context.Background(), "Ticket", "1"); err == nil {
		t.Error("the deleted record's snapshot is kept")
	}
	if n := fireAt(t, e, clock, t0.Add(3*time.Hour)); n != 1 {
		t.Fatalf("fired %d, want 1 (the record not deleted)", n)
	}
	if jobs := timeJobs(t, e); len(jobs) != 1 || jobs[0].EntryID != "2" {
		t.Fatalf("jobs = %+v", jobs)
	}
}

func TestTimerConditionFalseAtFireTime(t *testing.T) {
	clock := newFakeClock(t0)
	logs := &logBuffer{}
	e := openEngine(t, Options{Config: parseConfig(t, "http://127.0.0.1:9", timeRule), Store: sqliteDSN(t),
		NoDispatch: true, NoTimers: true, Now: clock.Now, Logger: newTestLogger(logs)})
	handle(t, e, ticketSave(rules.KindCreate, "1", "New", t0, t0))
	// Completed before the timer is due: the condition reads the latest values.
	handle(t, e, ticketSave(rules.KindUpdate, "1", "Complete", t0, t0.Add(time.Hour)))
	if n := fireAt(t, e, clock, t0.Add(2*time.Hour)); n != 1 {
		t.Fatalf("settled %d timers, want 1", n)
	}
	if jobs := timeJobs(t, e); len(jobs) != 0 {
		t.Fatalf("a false condition fired %d callouts", len(jobs))
	}
	if ts := listTimers(t, e, store.TimerFilter{State: store.TimerDone}); len(ts) != 1 || ts[0].Fired != 0 {
		t.Fatalf("done timers = %+v", ts)
	}
	if !strings.Contains(logs.String(), `msg="engine: timer not fired: condition false"`) {
		t.Errorf("logs lack the not-fired line:\n%s", logs)
	}
}

func TestTimerRepeatMax(t *testing.T) {
	clock := newFakeClock(t0)
	e := timerEngine(t, clock, strings.Replace(timeRule, "callouts: [RMM]\n", "callouts: [RMM]\n    repeat: {every: 1h, max: 3}\n", 1))
	handle(t, e, ticketSave(rules.KindCreate, "1", "New", t0, t0))
	due := t0.Add(2 * time.Hour)
	for i := range 2 {
		if n := fireAt(t, e, clock, due.Add(time.Duration(i)*time.Hour)); n != 1 {
			t.Fatalf("repetition %d: settled %d", i, n)
		}
	}
	// The condition is false at the third slot: nothing fires, the series goes on.
	handle(t, e, ticketSave(rules.KindUpdate, "1", "Complete", t0, due.Add(90*time.Minute)))
	if n := fireAt(t, e, clock, due.Add(2*time.Hour)); n != 1 {
		t.Fatal("third slot not settled")
	}
	handle(t, e, ticketSave(rules.KindUpdate, "1", "New", t0, due.Add(150*time.Minute)))
	if n := fireAt(t, e, clock, due.Add(3*time.Hour)); n != 1 {
		t.Fatal("fourth slot not settled")
	}
	if n := fireAt(t, e, clock, due.Add(30*time.Hour)); n != 0 {
		t.Fatalf("fired %d after max", n)
	}
	if jobs := timeJobs(t, e); len(jobs) != 3 {
		t.Fatalf("jobs = %d, want 3 (first + 3 repeats - 1 false)", len(jobs))
	}
	ts := listTimers(t, e, store.TimerFilter{State: store.TimerDone})
	if len(ts) != 1 || ts[0].Fired != 3 || ts[0].Repetition != 3 {
		t.Fatalf("done = %+v", ts)
	}
}

func TestTimerRepeatAfterOutageFiresOnce(t *testing.T) {
	clock := newFakeClock(t0)
	e := timerEngine(t, clock, strings.Replace(timeRule, "callouts: [RMM]\n", "callouts: [RMM]\n    repeat: {every: 1h, max: 5}\n", 1))
	handle(t, e, ticketSave(rules.KindCreate, "1", "New", t0, t0))
	// Down for 3.5 hours past the first due time: one firing, then the next slot.
	if n := fireAt(t, e, clock, t0.Add(5*time.Hour+30*time.Minute)); n != 1 {
		t.Fatalf("settled %d", n)
	}
	ts := listTimers(t, e, store.TimerFilter{})
	if len(ts) != 1 || !ts[0].DueAt.Equal(t0.Add(6*time.Hour)) || ts[0].Repetition != 4 {
		t.Fatalf("timers = %+v, want repetition 4 due at %v", ts, t0.Add(6*time.Hour))
	}
}

func TestTimerNullAnchor(t *testing.T) {
	clock := newFakeClock(t0)
	e := timerEngine(t, clock, timeRule)
	handle(t, e, ticketSave(rules.KindCreate, "1", "New", nil, t0))
	if ts := listTimers(t, e, store.TimerFilter{All: true}); len(ts) != 0 {
		t.Fatalf("a NULL anchor armed %+v", ts)
	}
	handle(t, e, ticketSave(rules.KindUpdate, "1", "New", t0, t0))
	if ts := listTimers(t, e, store.TimerFilter{}); len(ts) != 1 {
		t.Fatalf("timers = %+v", ts)
	}
	// Clearing the anchor disarms.
	handle(t, e, ticketSave(rules.KindUpdate, "1", "New", nil, t0.Add(time.Minute)))
	if ts := listTimers(t, e, store.TimerFilter{All: true}); len(ts) != 0 {
		t.Fatalf("timers after clearing the anchor = %+v", ts)
	}
	if n := fireAt(t, e, clock, t0.Add(24*time.Hour)); n != 0 {
		t.Fatalf("fired %d", n)
	}
}

// TestTimerTimeZoneAndDST: a date anchor counts its offset on the wall clock of the
// configuration's time zone (Europe/Berlin), so 09:00 stays 09:00 across the change
// to summer time; a datetime anchor's offset is an exact duration; and $TIMESTAMP$
// is the due time.
func TestTimerTimeZoneAndDST(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	const cfgText = `version: 1
timezone: Europe/Berlin
forms:
  Ticket:
    fields:
      Status:  {type: character}
      DueDay:  {type: date}
      Opened:  {type: datetime}
callouts:
  - {name: C, url: "http://127.0.0.1:9/", format: json}
rules:
  - {name: Morning, form: Ticket, events: [time], at: {field: DueDay, offset: 9h}, callouts: [C]}
  - {name: Day later, form: Ticket, events: [time], at: {field: Opened, offset: 24h}, callouts: [C]}
  - name: Not before nine
    form: Ticket
    events: [time]
    at: {field: DueDay, offset: 8h}
    condition: "$TIMESTAMP$ >= \"2026-03-30T09:00:00+02:00\""
    callouts: [C]
`
	cfg, err := rules.Parse("tz.yaml", []byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock(time.Date(2026, 3, 27, 0, 0, 0, 0, time.UTC))
	e := openEngine(t, Options{Config: cfg, Store: sqliteDSN(t), NoDispatch: true, NoTimers: true, Now: clock.Now})
	for _, c := range []struct {
		id  string
		day string
	}{{"winter", "2026-03-28"}, {"change", "2026-03-29"}, {"summer", "2026-03-30"}} {
		day, err := rules.DecodeRecord([]byte(`{"DueDay":"`+c.day+`","Opened":"`+c.day+`T12:00:00+01:00"}`), cfg.Forms[0].Schema, berlin)
		if err != nil {
			t.Fatal(err)
		}
		handle(t, e, &rules.Event{Kind: rules.KindCreate, Form: "Ticket", EntryID: c.id, Time: clock.Now(), After: day})
	}
	got := map[string]string{}
	for _, tm := range listTimers(t, e, store.TimerFilter{}) {
		got[tm.Rule+" "+tm.EntryID] = tm.DueAt.In(berlin).Format(time.RFC3339)
	}
	want := map[string]string{
		"Morning winter": "2026-03-28T09:00:00+01:00", "Morning change": "2026-03-29T09:00:00+02:00", "Morning summer": "2026-03-30T09:00:00+02:00",
		// 24 h after noon CET on the 28th is 13:00 CEST on the 29th.
		"Day later winter": "2026-03-29T13:00:00+02:00", "Day later change": "2026-03-30T13:00:00+02:00", "Day later summer": "2026-03-31T13:00:00+02:00",
		"Not before nine winter": "2026-03-28T08:00:00+01:00", "Not before nine change": "2026-03-29T08:00:00+02:00", "Not before nine summer": "2026-03-30T08:00:00+02:00",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s due %s, want %s", k, got[k], w)
		}
	}
	fireAt(t, e, clock, time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC))
	fired := map[string]bool{}
	for _, j := range timeJobs(t, e) {
		fired[j.Rule+" "+j.EntryID] = true
	}
	// $TIMESTAMP$ is the due time (08:00 local), not the clock (April 2nd): none fires.
	for _, id := range []string{"winter", "change", "summer"} {
		if fired["Not before nine "+id] {
			t.Errorf("Not before nine fired for %s: $TIMESTAMP$ was not the due time", id)
		}
		if !fired["Morning "+id] || !fired["Day later "+id] {
			t.Errorf("%s: fired %v", id, fired)
		}
	}
}

// TestTimerPrecision: on an idle engine with the real clock, a timer fires within a
// second of its due time (the loop sleeps until the earliest due timer).
func TestTimerPrecision(t *testing.T) {
	logs := &logBuffer{}
	e := openEngine(t, Options{Config: parseConfig(t, "http://127.0.0.1:9", timeRule), Store: sqliteDSN(t), NoDispatch: true,
		PollInterval: time.Hour, Logger: newTestLogger(logs)}) // no polling: only the wake-up at the due time
	// offset 2h: anchor the activity 2h minus 1.5s ago.
	due := time.Now().Add(1500 * time.Millisecond).Truncate(time.Millisecond)
	handle(t, e, ticketSave(rules.KindCreate, "1", "New", due.Add(-2*time.Hour), time.Now()))
	var jobs []store.Job
	waitFor(t, 5*time.Second, "the timer's delivery", func() bool { jobs = timeJobs(t, e); return len(jobs) == 1 })
	lag := jobs[0].CreatedAt.Sub(due)
	if lag < 0 || lag > time.Second {
		t.Fatalf("fired %v after its due time, want within 1s", lag)
	}
	// The firing is logged just after its transaction commits: the delivery can be
	// seen a moment before the line is written.
	waitFor(t, 5*time.Second, "the firing's log line with late=false", func() bool { return strings.Contains(logs.String(), "late=false") })
	t.Logf("lag %v", lag)
}

// TestTimerAlreadyDueFiresAtOnceAndLate: a timer due in the past when armed fires
// at once, logged late=true.
func TestTimerAlreadyDueFiresLate(t *testing.T) {
	logs := &logBuffer{}
	e := openEngine(t, Options{Config: parseConfig(t, "http://127.0.0.1:9", timeRule), Store: sqliteDSN(t), NoDispatch: true,
		PollInterval: time.Hour, Logger: newTestLogger(logs)})
	handle(t, e, ticketSave(rules.KindCreate, "1", "New", time.Now().Add(-5*time.Hour), time.Now()))
	waitFor(t, 5*time.Second, "the overdue timer's delivery", func() bool { return len(timeJobs(t, e)) == 1 })
	waitFor(t, 5*time.Second, "the late log line", func() bool { return strings.Contains(logs.String(), "late=true") })
}

// TestTimerRuleRemovedOnReload: a timer whose rule the configuration no longer has
// ends without firing; a rule added by a reload arms on the next save.
func TestTimerRuleRemovedOnReload(t *testing.T) {
	clock := newFakeClock(t0)
	e := timerEngine(t, clock, timeRule)
	handle(t, e, ticketSave(rules.KindCreate, "1", "New", t0, t0))
	if err := e.Reload(parseConfig(t, "http://127.0.0.1:9", oneCallout)); err != nil {
		t.Fatal(err)
	}
	if n := fireAt(t, e, clock, t0.Add(3*time.Hour)); n != 1 || len(timeJobs(t, e)) != 0 {
		t.Fatalf("settled %d, jobs %d", n, len(timeJobs(t, e)))
	}
}

// TestTimerArmedWithDeliveries: the timer and the save's deliveries are written in
// one transaction; a rejected save arms nothing.
func TestTimerRejectedSaveArmsNothing(t *testing.T) {
	clock := newFakeClock(t0)
	e := timerEngine(t, clock, timeRule+`  - {name: No, form: Ticket, events: [create], condition: "'Status' = \"Waiting Customer\"", reject: "no"}
`)
	res := handle(t, e, ticketSave(rules.KindCreate, "1", "Waiting Customer", t0, t0))
	if res.Rejected == nil {
		t.Fatal("not rejected")
	}
	if ts := listTimers(t, e, store.TimerFilter{All: true}); len(ts) != 0 {
		t.Fatalf("a rejected save armed %+v", ts)
	}
}

// TestTimerLookup: a host's Lookup gives fresh values instead of the snapshot; a
// record it reports gone ends its timer.
func TestTimerLookup(t *testing.T) {
	clock := newFakeClock(t0)
	lk := lookupFunc(func(_ context.Context, form, id string) (rules.Record, error) {
		if id == "gone" {
			return nil, ErrRecordNotFound
		}
		return rules.Record{"Status": "Complete"}, nil // fresher than the snapshot
	})
	e := openEngine(t, Options{Config: parseConfig(t, "http://127.0.0.1:9", timeRule), Store: sqliteDSN(t),
		NoDispatch: true, NoTimers: true, Now: clock.Now, Lookup: lk})
	handle(t, e, ticketSave(rules.KindCreate, "1", "New", t0, t0))
	handle(t, e, ticketSave(rules.KindCreate, "gone", "New", t0, t0))
	if n := fireAt(t, e, clock, t0.Add(3*time.Hour)); n != 2 || len(timeJobs(t, e)) != 0 {
		t.Fatalf("settled %d, jobs %d; want 2 settled, none fired", n, len(timeJobs(t, e)))
	}
}

type lookupFunc func(ctx context.Context, form, entryID string) (rules.Record, error)

func (f lookupFunc) Lookup(ctx context.Context, form, entryID string) (rules.Record, error) {
	return f(ctx, form, entryID)
}

func TestSnapshotRoundTrip(t *testing.T) {
	rec := rules.Record{
		"s": "a \"quoted\"\n\x01 ü", "bad": "\xff\xfe", "i": int64(-1 << 62), "f": 0.1, "b": true,
		"t": time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), "n": nil,
		"att": &rules.Attachment{Name: "a.txt", ContentType: "text/plain", Data: []byte("x")},
	}
	data, err := encodeSnapshot(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeSnapshot(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	for k, v := range rec {
		switch k {
		case "n":
			if _, ok := got[k]; ok {
				t.Errorf("NULL kept")
			}
		case "att":
			a := got[k].(*rules.Attachment)
			if a.Name != "a.txt" || a.ContentType != "text/plain" || a.Data != nil {
				t.Errorf("attachment = %+v", a)
			}
		case "t":
			if !got[k].(time.Time).Equal(v.(time.Time)) {
				t.Errorf("%s = %v", k, got[k])
			}
		default:
			if got[k] != v {
				t.Errorf("%s = %#v, want %#v", k, got[k], v)
			}
		}
	}
}

// switchableLookup is a RecordLookup whose lookups are off (LookupEnabled false).
type switchableLookup struct{ lookupFunc }

func (switchableLookup) LookupEnabled() bool { return false }

// TestTimerLookupDisabled: a lookup that reports itself disabled leaves the
// snapshot in use.
func TestTimerLookupDisabled(t *testing.T) {
	clock := newFakeClock(t0)
	lk := switchableLookup{func(context.Context, string, string) (rules.Record, error) {
		return nil, ErrRecordNotFound
	}}
	e := openEngine(t, Options{Config: parseConfig(t, "http://127.0.0.1:9", timeRule), Store: sqliteDSN(t),
		NoDispatch: true, NoTimers: true, Now: clock.Now, Lookup: lk})
	handle(t, e, ticketSave(rules.KindCreate, "1", "New", t0, t0))
	if n := fireAt(t, e, clock, t0.Add(3*time.Hour)); n != 1 || len(timeJobs(t, e)) != 1 {
		t.Fatalf("settled %d, jobs %d; want the snapshot to fire", n, len(timeJobs(t, e)))
	}
}

// TestTimerMetrics: the armed gauge, the firings counter and the lag histogram.
func TestTimerMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := openEngine(t, Options{Config: parseConfig(t, "http://127.0.0.1:9", timeRule), Store: sqliteDSN(t), NoDispatch: true, Registerer: reg,
		PollInterval: 50 * time.Millisecond})
	now := time.Now()
	handle(t, e, ticketSave(rules.KindCreate, "1", "New", now.Add(-3*time.Hour), now))      // overdue: fires
	handle(t, e, ticketSave(rules.KindCreate, "2", "Complete", now.Add(-3*time.Hour), now)) // overdue: condition false
	handle(t, e, ticketSave(rules.KindCreate, "3", "New", now.Add(time.Hour), now))         // armed
	waitFor(t, 5*time.Second, "two settled timers", func() bool {
		return testutil.ToFloat64(e.metrics.timers.firings.WithLabelValues("fired")) == 1 &&
			testutil.ToFloat64(e.metrics.timers.firings.WithLabelValues("not_fired")) == 1
	})
	if n := testutil.CollectAndCount(e.metrics.timers.lag); n != 1 {
		t.Errorf("lag histogram: %d series", n)
	}
	var lagCount uint64
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "ruleflow_timer_lag_seconds" {
			lagCount = mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	if lagCount != 2 {
		t.Errorf("lag observations = %d, want 2", lagCount)
	}
	// The loop recounts the armed timers every 10 poll intervals (0.5 s here).
	waitFor(t, 5*time.Second, "ruleflow_timers_armed = 1", func() bool { return testutil.ToFloat64(e.metrics.timers.armed) == 1 })
	if got := testutil.ToFloat64(e.metrics.timers.armed); got != 1 {
		t.Errorf("ruleflow_timers_armed = %v, want 1", got)
	}
}

// TestTimerBatchLastEventWins: in one HandleBatch, each record's timers end as its
// last event says: a create then a delete arms nothing, an anchor set then cleared
// disarms, a delete then a create arms.
func TestTimerBatchLastEventWins(t *testing.T) {
	clock := newFakeClock(t0)
	e := timerEngine(t, clock, timeRule)
	handle(t, e, ticketSave(rules.KindCreate, "3", "New", t0, t0))
	evs := []*rules.Event{
		ticketSave(rules.KindCreate, "1", "New", t0, t0), ticketSave(rules.KindDelete, "1", "New", t0, t0),
		ticketSave(rules.KindCreate, "2", "New", t0, t0), ticketSave(rules.KindUpdate, "2", "New", nil, t0),
		ticketSave(rules.KindDelete, "3", "New", t0, t0), ticketSave(rules.KindCreate, "3", "New", t0.Add(time.Hour), t0),
	}
	if _, err := e.HandleBatch(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	ts := listTimers(t, e, store.TimerFilter{All: true})
	if len(ts) != 1 || ts[0].EntryID != "3" || !ts[0].Anchor.Equal(t0.Add(time.Hour)) {
		t.Fatalf("timers = %+v, want only 3's, re-armed", ts)
	}
	if _, err := e.Store().Snapshot(context.Background(), "Ticket", "1"); err == nil {
		t.Error("the snapshot of 1 (created and deleted) is kept")
	}
}
