//go:build unix

package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkSQLiteWriterPerDelivery measures the single SQLite writer's work for one
// fast-path delivery — a merged insert of leased jobs with their history in one
// transaction, their settle as delivered in another, as the committer runs them —
// on the schema as it is ("now": the writer keeps callout_counts, counts.go) and
// on the schema before 012_counts_by_writer.sql ("before": the row triggers of
// 009_overrides.sql keep it). The two stores alternate inside every iteration,
// so both see the same machine load; it reports CPU time (getrusage) and wall time
// per delivery of each, and the ratio now ÷ before of the CPU time.
func BenchmarkSQLiteWriterPerDelivery(b *testing.B) {
	const group, rounds = 32, 8 // deliveries per transaction, transactions per turn
	open := func(name string, ddl []string) *Store {
		s, err := Open(context.Background(), "sqlite:"+filepath.Join(b.TempDir(), name+".db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		s.countsByTrigger = ddl != nil
		for _, q := range ddl {
			if _, err := s.db.(*sqliteBackend).writer.Exec(q); err != nil {
				b.Fatal(q, err)
			}
		}
		writerDeliveries(b, s, 20000/group, group) // an outbox of 20,000 delivered jobs
		return s
	}
	before, err := countTriggers009()
	if err != nil {
		b.Fatal(err)
	}
	stores := []*Store{open("before", before), open("now", nil)}
	var cpu, wall [2]time.Duration
	b.ResetTimer()
	for range b.N {
		for k, s := range stores {
			w, c := time.Now(), cpuTime(b)
			writerDeliveries(b, s, rounds, group)
			wall[k] += time.Since(w)
			cpu[k] += cpuTime(b) - c
		}
	}
	n := float64(b.N * rounds * group)
	for k, name := range []string{"before", "now"} {
		b.ReportMetric(float64(cpu[k].Microseconds())/n, "cpu-µs/delivery-"+name)
		b.ReportMetric(float64(wall[k].Microseconds())/n, "wall-µs/delivery-"+name)
	}
	b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "cpu-now/before")
}

// countTriggers009 returns the CREATE TRIGGER statements of
// migrations/sqlite/009_overrides.sql, which 012_counts_by_writer.sql dropped.
func countTriggers009() ([]string, error) {
	src, err := migrationFS.ReadFile("migrations/sqlite/009_overrides.sql")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, part := range strings.Split(string(src), "CREATE TRIGGER")[1:] {
		end := strings.Index(part, "\nEND;") + 1
		out = append(out, "CREATE TRIGGER"+part[:end+len("END")])
	}
	return out, nil
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// writerDeliveries runs rounds of group deliveries through s's writer: per round
// one transaction inserting group leased jobs and their history records with the
// committer's merged insert, and one settling them as delivered.
func writerDeliveries(b *testing.B, s *Store, rounds, group int) {
	ctx := context.Background()
	doc := []byte(strings.Repeat("x", 300))
	for range rounds {
		now := time.Now()
		specs := make([]*insertSpec, group)
		outs := make([]Outcome, group)
		for i := range specs {
			jobs := []Job{benchJob()}
			hist := []HistoryRecord{{Form: "Ticket", EntryID: "8176", EventKind: "update", Doc: doc}}
			if err := prepareJobs(jobs, now); err != nil {
				b.Fatal(err)
			}
			if err := prepareHistory(hist, now); err != nil {
				b.Fatal(err)
			}
			specs[i] = &insertSpec{jobs: jobs, hist: hist, leases: []rowLease{{owner: "bench", lease: time.Minute, until: now.Add(time.Minute)}}}
			outs[i] = Outcome{ID: jobs[0].ID, Status: StatusDelivered,
				Attempt: Attempt{StartedAt: now, Duration: time.Millisecond, StatusCode: 200, Response: []byte("OK")}}
		}
		err := writeTx(ctx, s.db, func(t tx) error { return s.mergeInserts(ctx, t, specs) })
		if err != nil {
			b.Fatal(err)
		}
		err = writeTx(ctx, s.db, func(t tx) error {
			res, err := s.settleRows(ctx, t, "bench", outs)
			for _, r := range res {
				if r != nil {
					return fmt.Errorf("settle: %w", r)
				}
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
