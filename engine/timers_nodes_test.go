package engine

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// TestTimersThreeNodesPostgres: three engines on one PostgreSQL schema, each with
// its own timer loop, fire every timer exactly once (leases on the database clock,
// FOR UPDATE SKIP LOCKED), while a fourth arms timers that fall due as they run.
func TestTimersThreeNodesPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	const records = 300
	cfg := parseConfig(t, "http://127.0.0.1:9", timeRule)
	armer := openEngine(t, Options{Config: cfg, Store: dsn, NoDispatch: true, NoTimers: true})
	for i := range 3 { // the three firing nodes, closed when the test ends
		openEngine(t, Options{Config: cfg, Store: dsn, NoDispatch: true, NodeID: fmt.Sprintf("node-%d", i),
			PollInterval: 50 * time.Millisecond, Lease: 5 * time.Second})
	}
	// Half are overdue when armed, half fall due over the next second.
	now := time.Now()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < records; i += 4 {
				due := now.Add(-time.Hour)
				if i%2 == 1 {
					due = now.Add(time.Duration(i) * 3 * time.Millisecond)
				}
				if _, err := armer.Handle(context.Background(), ticketSave(rules.KindCreate, fmt.Sprint(i), "New", due.Add(-2*time.Hour), now)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	st := armer.Store()
	waitFor(t, 30*time.Second, "every timer settled", func() bool {
		n, err := st.CountArmedTimers(context.Background())
		return err == nil && n == 0
	})
	per := map[string]int{}
	delivery := map[string]string{}
	for _, j := range jobsOf(t, st, store.KindCallout) {
		per[j.EntryID]++
		delivery[j.EntryID] = j.ID
	}
	for i := range records {
		if n := per[fmt.Sprint(i)]; n != 1 {
			t.Errorf("record %d fired %d times, want once", i, n)
		}
	}
	// Each firing has exactly one history record of kind time, naming its delivery.
	for i := range records {
		id := fmt.Sprint(i)
		hs, err := armer.History(context.Background(), store.HistoryFilter{Form: "Ticket", EntryID: id})
		if err != nil {
			t.Fatal(err)
		}
		var times []HistoryEntry
		for _, h := range hs {
			if h.Kind == "time" {
				times = append(times, h)
			}
		}
		if len(times) != 1 || len(times[0].Callouts) != 1 || times[0].Callouts[0].DeliveryID != delivery[id] {
			t.Errorf("record %d: time history %+v, want one naming delivery %s", i, times, delivery[id])
		}
	}
	done, err := st.ListTimers(context.Background(), store.TimerFilter{State: store.TimerDone, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != records {
		t.Fatalf("%d timers done, want %d", len(done), records)
	}
}

// TestTimersPostgres runs the single-engine timer semantics on PostgreSQL.
func TestTimersPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	clock := newFakeClock(t0)
	e := openEngine(t, Options{Config: parseConfig(t, "http://127.0.0.1:9", timeRule), Store: dsn,
		NoDispatch: true, NoTimers: true, Now: clock.Now, NodeID: "pg"})
	handle(t, e, ticketSave(rules.KindCreate, "1", "New", t0, t0))
	handle(t, e, ticketSave(rules.KindCreate, "2", "New", t0, t0))
	handle(t, e, ticketSave(rules.KindDelete, "2", "New", t0, t0))
	if n := fireAt(t, e, clock, t0.Add(2*time.Hour-time.Second)); n != 0 {
		t.Fatalf("fired %d early", n)
	}
	// On PostgreSQL leases run on the database clock and due times on the engine's.
	if n := fireAt(t, e, clock, t0.Add(2*time.Hour)); n != 1 {
		t.Fatalf("fired %d, want 1", n)
	}
	moved := t0.Add(time.Hour)
	handle(t, e, ticketSave(rules.KindUpdate, "1", "New", moved, t0.Add(3*time.Hour)))
	if n := fireAt(t, e, clock, t0.Add(3*time.Hour)); n != 1 {
		t.Fatalf("moved anchor (already due): fired %d, want 1", n)
	}
	if n := fireAt(t, e, clock, t0.Add(30*time.Hour)); n != 0 || len(timeJobs(t, e)) != 2 {
		t.Fatalf("jobs = %d, want 2", len(timeJobs(t, e)))
	}
}
