package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestCalloutCountsExact drives every kind of jobs write the triggers of
// callout_counts see — merged multi-row inserts from concurrent Enqueues (one
// statement, several callouts and kinds), claims, a batch Settle mixing delivered,
// failed and rescheduled outcomes, a retry, a purge — and compares CalloutStats with
// a COUNT(*) of the jobs table after each step. The PostgreSQL triggers aggregate
// per statement (011_statement_counts.sql), so a statement touching many rows of
// several callouts at once is what they must get right.
func TestCalloutCountsExact(t *testing.T) {
	for name, open := range map[string]opener{"sqlite": openSQLiteT, "postgres": openPostgresT} {
		t.Run(name, func(t *testing.T) {
			testCalloutCountsExact(t, open)
		})
	}
}

func testCalloutCountsExact(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	names := []string{"A", "B", "C"}
	check := func(step string) {
		t.Helper()
		got, err := s.CalloutStats(ctx, names)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]CalloutStat{}
		err = readTx(ctx, s.db, func(tx tx) error {
			r, err := tx.query(ctx, `SELECT callout, status, COUNT(*), MAX(id) FROM jobs WHERE kind = 'callout' GROUP BY callout, status`)
			if err != nil {
				return err
			}
			defer r.Close()
			for r.Next() {
				var callout, status, last string
				var n int64
				if err := r.Scan(&callout, &status, &n, &last); err != nil {
					return err
				}
				st := want[callout]
				switch Status(status) {
				case StatusPending:
					st.Pending = n
				case StatusDelivered:
					st.Delivered = n
				case StatusFailed:
					st.Failed = n
				}
				if last > st.Last.ID {
					st.Last.ID = last
				}
				want[callout] = st
			}
			return r.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			g, w := got[n], want[n]
			if g.Pending != w.Pending || g.Delivered != w.Delivered || g.Failed != w.Failed {
				t.Errorf("%s: callout %s counts %d/%d/%d (pending/delivered/failed), jobs table %d/%d/%d",
					step, n, g.Pending, g.Delivered, g.Failed, w.Pending, w.Delivered, w.Failed)
			}
		}
	}

	// Concurrent Enqueues: the committer merges them into one INSERT.
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			var jobs []Job
			for i := range 25 {
				j := callout(fmt.Sprintf("dlv_cnt_%d_%02d", g, i))
				j.Callout = names[(g+i)%len(names)]
				j.NextAt, j.MaxAttempts = t0, 2
				jobs = append(jobs, j)
			}
			jobs = append(jobs, Job{ID: fmt.Sprintf("eml_cnt_%d", g), Kind: KindEmail, Callout: "A", MaxAttempts: 1, NextAt: t0.Add(time.Hour), Payload: []byte("{}")})
			if err := s.Enqueue(ctx, jobs); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	check("enqueue")

	claimed := mustClaim(t, s, "w", 150, t0)
	check("claim")
	outs := make([]Outcome, len(claimed))
	for i, j := range claimed {
		outs[i] = Outcome{ID: j.ID, Status: StatusDelivered, Attempt: attempt(t0, 200, "")}
		switch i % 3 {
		case 1:
			outs[i].Status, outs[i].Attempt = StatusFailed, attempt(t0, 500, "HTTP 500")
		case 2:
			outs[i].Status, outs[i].NextAt, outs[i].Attempt = StatusPending, t0.Add(time.Minute), attempt(t0, 503, "HTTP 503")
		}
	}
	if _, err := s.Settle(ctx, "w", outs); err != nil {
		t.Fatal(err)
	}
	check("settle")

	for _, o := range outs {
		if o.Status == StatusFailed {
			if err := s.Retry(ctx, o.ID, t0.Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	check("retry")

	if _, err := s.Purge(ctx, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	check("purge")

	// A lone Enqueue (the committer runs it by itself, reading back what it
	// inserted), and one whose ID is taken, which must change nothing.
	lone := callout("dlv_cnt_lone")
	lone.Callout, lone.NextAt, lone.MaxAttempts = "B", t0, 2
	if err := s.Enqueue(ctx, []Job{lone}); err != nil {
		t.Fatal(err)
	}
	check("lone enqueue")
	if err := s.Enqueue(ctx, []Job{lone}); err == nil {
		t.Fatal("enqueue of a taken ID: no error")
	}
	check("duplicate enqueue")

	// The fast path: inserted leased, settled without a claim, one of each outcome.
	var leased []Job
	for i := range 6 {
		j := callout(fmt.Sprintf("dlv_cnt_fast_%d", i))
		j.Callout, j.NextAt, j.MaxAttempts = names[i%len(names)], t0, 3
		leased = append(leased, j)
	}
	if err := s.EnqueueLeased(ctx, leased, nil, "fast", time.Minute, t0); err != nil {
		t.Fatal(err)
	}
	check("enqueue leased")
	fast := make([]Outcome, len(leased))
	for i, j := range leased {
		fast[i] = Outcome{ID: j.ID, Status: []Status{StatusDelivered, StatusFailed, StatusPending}[i%3], NextAt: t0.Add(time.Minute), Attempt: attempt(t0, 200, "")}
	}
	fast = append(fast, Outcome{ID: "dlv_cnt_missing", Status: StatusDelivered, Attempt: attempt(t0, 200, "")})
	if _, err := s.Settle(ctx, "fast", fast); err != nil {
		t.Fatal(err)
	}
	check("settle leased")
	if _, err := s.Settle(ctx, "fast", fast[:1]); err != nil { // settled already: a lost lease, no change
		t.Fatal(err)
	}
	check("settle again")

	if _, err := s.RetryMatching(ctx, RetryFilter{Status: StatusFailed}, t0.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	check("retry matching")
}
