package engine

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// BenchmarkFireDueTimers measures the timer loop's cost per due timer: each
// iteration arms one claim batch of due timers (half of whose records make the
// condition false) on SQLite, untimed, then fires them with FireDueTimers, one
// transaction per batch. history=off runs with `history: {keep: 0}`, history=on
// with the default, which records every firing decision (ns/timer is per timer).
func BenchmarkFireDueTimers(b *testing.B) {
	for _, hc := range []struct{ name, yaml string }{{"history=off", "history: {keep: 0}\n"}, {"history=on", ""}} {
		b.Run(hc.name, func(b *testing.B) {
			clock := newFakeClock(t0)
			e := openEngine(b, Options{Config: parseConfig(b, "http://127.0.0.1:9", timeRule+hc.yaml), Store: sqliteDSN(b),
				NoDispatch: true, NoTimers: true, Now: clock.Now, NodeID: "bench"})
			ctx := context.Background()
			open, done := encodeBenchSnapshot(b, "New"), encodeBenchSnapshot(b, "Complete")
			const batch = timerClaimBatch
			var fired time.Duration
			b.ReportAllocs()
			b.StopTimer()
			for i := 0; i < b.N; i++ {
				now := t0.Add(time.Duration(i+1) * time.Hour)
				a := &store.Arming{}
				for k := range batch {
					id := strconv.Itoa(i*batch + k)
					snap := open
					if k%2 == 1 {
						snap = done
					}
					a.Snapshots = append(a.Snapshots, store.Snapshot{Form: "Ticket", EntryID: id, Data: snap})
					a.Arm = append(a.Arm, store.Timer{Rule: "Stale", Form: "Ticket", EntryID: id, Anchor: now.Add(-2 * time.Hour),
						Offset: 2 * time.Hour, Repetitions: 1, DueAt: now, ArmedBy: "create", ArmedAt: now})
				}
				if err := e.Store().EnqueueArming(ctx, nil, nil, a, now); err != nil {
					b.Fatal(err)
				}
				clock.Set(now)
				b.StartTimer()
				t := time.Now()
				n, err := e.FireDueTimers(ctx)
				fired += time.Since(t)
				b.StopTimer()
				if err != nil || n != batch {
					b.Fatalf("settled %d timers (%v), want %d", n, err, batch)
				}
			}
			b.ReportMetric(float64(fired.Nanoseconds())/float64(b.N*batch), "ns/timer")
		})
	}
}

func encodeBenchSnapshot(b *testing.B, status string) []byte {
	b.Helper()
	snap, err := encodeSnapshot(nil, rules.Record{"TicketID": int64(1), "TicketNumber": "T1", "Status": status, "LastActivityDate": t0})
	if err != nil {
		b.Fatal(err)
	}
	return snap
}

// BenchmarkTimerHistoryRecord measures the CPU part of a time firing's history:
// building the record of a firing decision (fired, with one delivery and a
// skipped callout, or condition false), without the store write.
func BenchmarkTimerHistoryRecord(b *testing.B) {
	clock := newFakeClock(t0)
	e := openEngine(b, Options{Config: parseConfig(b, "http://127.0.0.1:9", timeRule), Now: clock.Now})
	state := e.cfg.Load()
	tm := store.Timer{Rule: "Stale", Form: "Ticket", EntryID: "1", Anchor: t0, Offset: 2 * time.Hour, Repetitions: 1, DueAt: t0.Add(2 * time.Hour)}
	rec := rules.Record{"TicketID": int64(1), "TicketNumber": "T1", "Status": "New", "LastActivityDate": t0}
	for _, status := range []string{"New", "Complete"} {
		name := map[string]string{"New": "fired", "Complete": "condition_false"}[status]
		b.Run(name, func(b *testing.B) {
			rec["Status"] = status
			d, err := e.decideTimer(state, tm, rec, tm.DueAt)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if h := e.timerHistoryOf(state, tm, d, tm.DueAt); h == nil {
					b.Fatal("no record")
				}
			}
		})
	}
}
