package engine

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// historyStores are the outboxes the history tests run on.
var historyStores = []struct {
	name string
	dsn  func(testing.TB) string
}{
	{"sqlite", sqliteDSN},
	{"postgres", postgresDSN},
}

// historyFor returns the history of (form, entry), newest first, waiting up to 5 s
// until it holds want entries (the history of an event that enqueues nothing is
// committed just after Handle returns).
func historyFor(t *testing.T, e *Engine, form, entry string, want int) []HistoryEntry {
	t.Helper()
	var got []HistoryEntry
	waitFor(t, 5*time.Second, "history entries", func() bool {
		var err error
		got, err = e.History(context.Background(), store.HistoryFilter{Form: form, EntryID: entry})
		if err != nil {
			t.Fatal(err)
		}
		return len(got) >= want
	})
	if len(got) != want {
		t.Fatalf("%d history entries for %s %s, want %d: %+v", len(got), form, entry, want, got)
	}
	return got
}

// checkEntry compares an entry with want, whose ID and Time are taken from got.
func checkEntry(t *testing.T, got, want HistoryEntry) {
	t.Helper()
	want.ID, want.Time = got.ID, got.Time
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history entry (-want +got):\n%s", diff)
	}
}

// TestHistoryFired: the history of an event that fires a callout after a cascade
// (Escalate sets Priority, then Close alert holds in the second pass) lists every
// rule in execution order with its outcome, the delivery, and the values set; it
// is committed with the delivery, so it is there when Handle returns.
func TestHistoryFired(t *testing.T) {
	for _, st := range historyStores {
		t.Run(st.name, func(t *testing.T) {
			e := openEngine(t, Options{Config: parseConfig(t, "http://127.0.0.1:9", actionRules), Store: st.dsn(t), NoDispatch: true})
			ev := completeEvent(7)
			ev.After["Title"] = "printer"
			delete(ev.After, "RMM Alert ID")
			res, err := e.Handle(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.History(context.Background(), store.HistoryFilter{Form: "Ticket", EntryID: "7"})
			if err != nil || len(got) != 1 {
				t.Fatalf("history right after Handle: %+v, %v; want one entry", got, err)
			}
			checkEntry(t, got[0], HistoryEntry{
				Kind: "update", Form: "Ticket", EntryID: "7",
				Rules: []HistoryRule{
					{Name: "Escalate", Outcome: "true"},
					{Name: "Completion needs a title", Outcome: "false"},
					{Name: "Close alert", Outcome: "true"},
				},
				Callouts: []HistoryCallout{{Name: "RMM", Rule: "Close alert", DeliveryID: res.Fired[0].DeliveryID}},
				Set:      json.RawMessage(`{"Priority":"Critical","RMM Alert ID":"ALERT-T20261120.0007"}`),
			})
			if got[0].Callouts[0].DeliveryID == "" {
				t.Error("no delivery ID")
			}
			if _, _, err := e.Store().Get(context.Background(), got[0].Callouts[0].DeliveryID); err != nil {
				t.Errorf("the delivery the history names: %v", err)
			}
		})
	}
}

// TestHistoryRejected: a rejected event enqueues nothing and still has its
// history: the rejecting rule and the rejection.
func TestHistoryRejected(t *testing.T) {
	for _, st := range historyStores {
		t.Run(st.name, func(t *testing.T) {
			e := openEngine(t, Options{Config: parseConfig(t, "http://127.0.0.1:9", actionRules), Store: st.dsn(t), NoDispatch: true})
			res, err := e.Handle(context.Background(), completeEvent(8))
			if err != nil || res.Rejected == nil {
				t.Fatalf("Handle = %+v, %v; want a rejection", res, err)
			}
			got := historyFor(t, e, "Ticket", "8", 1)
			checkEntry(t, got[0], HistoryEntry{
				Kind: "update", Form: "Ticket", EntryID: "8",
				Rules:    []HistoryRule{{Name: "Completion needs a title", Outcome: "true"}},
				Callouts: []HistoryCallout{},
				Set:      json.RawMessage(`{}`),
				Rejected: &rules.Rejection{Rule: "Completion needs a title", Message: "A resolution is required to complete a ticket"},
			})
			if jobs := jobsOf(t, e.Store(), store.KindCallout); len(jobs) != 0 {
				t.Errorf("a rejected event enqueued %d jobs", len(jobs))
			}
		})
	}
}

// whyNotRules exercise every reason a callout does not fire.
const whyNotRules = `
callouts:
  - {name: RMM, url: "{{URL}}/rmm", format: name-value, udf: RMM Alert ID}
  - {name: Off, url: "{{URL}}/off", format: name-value, active: false}
  - {name: Audit, url: "{{URL}}/audit", format: json}
  - {name: Broken, url: "{{URL}}/broken", format: name-value}
rules:
  - {name: Close, form: Ticket, events: [update], condition: "'Status' = \"Complete\"", callouts: [RMM, Off, Audit, Broken]}
  - {name: Never, form: Ticket, events: [update], condition: "'Status' = \"New\"", callouts: [Audit]}
  - {name: Divide, form: Ticket, events: [update], condition: "1 / 'Divisor' > 0", callouts: [Audit]}
  - {name: Sleeping, form: Ticket, events: [update], active: false, callouts: [RMM, Audit]}
  - {name: Created, form: Ticket, events: [create], callouts: [Audit]}
`

// TestHistoryWhyNot: rule false, rule error (with its text), rule inactive,
// callout inactive, UDF empty and render error are each told apart.
func TestHistoryWhyNot(t *testing.T) {
	for _, st := range historyStores {
		t.Run(st.name, func(t *testing.T) {
			cfg := parseConfig(t, "http://127.0.0.1:9", whyNotRules)
			broken, _ := cfg.Callout("Broken")
			broken.Method = "PUT" // refused at render time: the loader would not accept it
			e := openEngine(t, Options{Config: cfg, Store: st.dsn(t), NoDispatch: true})
			ev := completeEvent(5)
			delete(ev.After, "RMM Alert ID")
			ev.After["Divisor"] = int64(0)
			res, err := e.Handle(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Fired) != 2 {
				t.Fatalf("fired %+v, want Audit and Broken", res.Fired)
			}
			divErr := rules.RuleErrors(res.RuleErrors)["Divide"]
			if divErr == nil {
				t.Fatalf("no error for Divide in %v", res.RuleErrors)
			}
			got := historyFor(t, e, "Ticket", "5", 1)
			checkEntry(t, got[0], HistoryEntry{
				Kind: "update", Form: "Ticket", EntryID: "5",
				Rules: []HistoryRule{
					{Name: "Close", Outcome: "true"},
					{Name: "Never", Outcome: "false"},
					{Name: "Divide", Outcome: "error", Error: divErr.Err.Error()},
					{Name: "Sleeping", Outcome: "false", Reason: "inactive"},
				},
				Callouts: []HistoryCallout{
					{Name: "Audit", Rule: "Close", DeliveryID: res.Fired[0].DeliveryID},
					{Name: "Broken", Rule: "Close", DeliveryID: res.Fired[1].DeliveryID, Skipped: true,
						Reason: `render error: rule "Close": callout "Broken": unsupported method "PUT" (want GET or POST)`},
					{Name: "RMM", Rule: "Close", Skipped: true, Reason: "udf RMM Alert ID empty"},
					{Name: "Off", Rule: "Close", Skipped: true, Reason: "inactive"},
					{Name: "Audit", Rule: "Never", Skipped: true, Reason: "rule false"},
					{Name: "Audit", Rule: "Divide", Skipped: true, Reason: "rule error"},
					{Name: "RMM", Rule: "Sleeping", Skipped: true, Reason: "rule inactive"},
					{Name: "Audit", Rule: "Sleeping", Skipped: true, Reason: "rule inactive"},
				},
				Set: json.RawMessage(`{}`),
			})

			// An event no rule holds for (and one with no rules at all) is recorded too.
			ev2 := completeEvent(6)
			ev2.After["Status"] = "Waiting Customer"
			ev2.After["Divisor"] = int64(1)
			if _, err := e.Handle(context.Background(), ev2); err != nil {
				t.Fatal(err)
			}
			got = historyFor(t, e, "Ticket", "6", 1)
			if n := len(got[0].Rules); n != 4 || got[0].Rules[2] != (HistoryRule{Name: "Divide", Outcome: "true"}) {
				t.Errorf("rules of an event that fired Divide: %+v", got[0].Rules)
			}
			del := &rules.Event{Kind: rules.KindDelete, Form: "Ticket", EntryID: "6", Before: rules.Record{"TicketID": int64(6)}}
			if _, err := e.Handle(context.Background(), del); err != nil {
				t.Fatal(err)
			}
			got = historyFor(t, e, "Ticket", "6", 2)
			checkEntry(t, got[0], HistoryEntry{Kind: "delete", Form: "Ticket", EntryID: "6", Rules: []HistoryRule{}, Callouts: []HistoryCallout{}, Set: json.RawMessage(`{}`)})
		})
	}
}

// TestHistoryBatchRejected: when one event of a batch is rejected, nothing is
// enqueued for any, and the history of the others says so.
func TestHistoryBatchRejected(t *testing.T) {
	for _, st := range historyStores {
		t.Run(st.name, func(t *testing.T) {
			e := openEngine(t, Options{Config: parseConfig(t, "http://127.0.0.1:9", actionRules), Store: st.dsn(t), NoDispatch: true})
			ok := completeEvent(1)
			ok.After["Title"] = "printer"
			delete(ok.After, "RMM Alert ID")
			if _, err := e.HandleBatch(context.Background(), []*rules.Event{ok, completeEvent(2)}); err != nil {
				t.Fatal(err)
			}
			got := historyFor(t, e, "Ticket", "1", 1)
			want := []HistoryCallout{{Name: "RMM", Rule: "Close alert", Skipped: true, Reason: "batch rejected"}}
			if diff := cmp.Diff(want, got[0].Callouts); diff != "" || got[0].Rejected != nil {
				t.Errorf("callouts (-want +got):\n%s\nrejected %+v", diff, got[0].Rejected)
			}
			if got := historyFor(t, e, "Ticket", "2", 1); got[0].Rejected == nil {
				t.Errorf("the rejected event: %+v", got[0])
			}
		})
	}
}

// TestHistoryRetention: records older than keep are purged; keep: 0 records
// nothing and purges everything; the purge works in bounded batches.
func TestHistoryRetention(t *testing.T) {
	for _, st := range historyStores {
		t.Run(st.name, func(t *testing.T) {
			var mu sync.Mutex
			now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
			dsn := st.dsn(t)
			cfg := parseConfig(t, "http://127.0.0.1:9", oneCallout+"history: {keep: 7d}\n")
			e := openEngine(t, Options{Config: cfg, Store: dsn, NoDispatch: true, Now: clock})
			ctx := context.Background()
			for i := range historyPurgeBatch + 5 { // more than one purge batch
				ev := completeEvent(1)
				ev.Time = time.Time{}
				if i%2 == 1 {
					ev.After["Status"] = "New" // fires nothing: queued, not awaited
				}
				if _, err := e.Handle(ctx, ev); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, 10*time.Second, "every record", func() bool {
				recs, err := e.Store().History(ctx, store.HistoryFilter{Limit: 1000})
				return err == nil && len(recs) == 1000
			})
			advance(6 * 24 * time.Hour)
			if _, err := e.Handle(ctx, completeEvent(2)); err != nil {
				t.Fatal(err)
			}
			if n, err := e.PurgeHistory(ctx); err != nil || n != 0 {
				t.Errorf("purge before keep: %d, %v; want 0", n, err)
			}
			advance(2 * 24 * time.Hour) // the first records are 8 days old, the last 2
			if n, err := e.PurgeHistory(ctx); err != nil || n != historyPurgeBatch+5 {
				t.Errorf("purge after keep: %d, %v; want %d", n, err, historyPurgeBatch+5)
			}
			left, err := e.History(ctx, store.HistoryFilter{})
			if err != nil || len(left) != 1 || left[0].EntryID != "2" {
				t.Fatalf("left %+v, %v; want the record of ticket 2", left, err)
			}

			if err := e.Reload(parseConfig(t, "http://127.0.0.1:9", oneCallout+"history: {keep: 0}\n")); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Handle(ctx, completeEvent(3)); err != nil {
				t.Fatal(err)
			}
			if n, err := e.PurgeHistory(ctx); err != nil || n != 1 {
				t.Errorf("purge with keep 0: %d, %v; want 1 (everything)", n, err)
			}
			if left, _ := e.History(ctx, store.HistoryFilter{}); len(left) != 0 {
				t.Errorf("keep 0 recorded %+v", left)
			}
		})
	}
}

// checkHistoryCovers checks that every delivery in ids is named by a history
// record: the record is committed with the delivery, so a node killed with SIGKILL
// leaves no delivery without its history.
func checkHistoryCovers(t *testing.T, st *store.Store, ids []string) {
	t.Helper()
	named := map[string]bool{}
	f := store.HistoryFilter{Limit: 1000}
	for {
		recs, err := st.History(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			h, err := DecodeHistory(r)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range h.Callouts {
				if c.DeliveryID != "" {
					named[c.DeliveryID] = true
				}
			}
		}
		if len(recs) < f.Limit {
			break
		}
		f.Before = recs[len(recs)-1].ID
	}
	missing := 0
	for _, id := range ids {
		if !named[id] {
			missing++
		}
	}
	if missing > 0 || len(ids) == 0 {
		t.Errorf("%d of %d deliveries stored by the killed node have no history record", missing, len(ids))
	}
}

// TestHistoryBackgroundPurge: the purge runs on its own, on the engine's clock,
// and stops with the engine.
func TestHistoryBackgroundPurge(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := openEngine(t, Options{Config: parseConfig(t, "http://127.0.0.1:9", oneCallout+"history: {keep: 1h}\n"), Store: sqliteDSN(t), NoDispatch: true, Now: clock})
	ev := completeEvent(1)
	ev.Time = time.Time{}
	if _, err := e.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	stop := e.startHistoryPurgeEvery(time.Millisecond, 5*time.Millisecond)
	defer stop()
	waitFor(t, 10*time.Second, "the background purge", func() bool {
		recs, err := e.Store().History(context.Background(), store.HistoryFilter{})
		return err == nil && len(recs) == 0
	})
}
