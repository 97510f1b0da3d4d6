package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// attemptRows counts the job_attempts rows of job id.
func attemptRows(t *testing.T, s *Store, id string) int {
	t.Helper()
	var n int
	err := readTx(context.Background(), s.db, func(tx tx) error {
		_, err := queryRow(context.Background(), tx, "SELECT COUNT(*) FROM job_attempts WHERE job_id = ?", []any{id}, &n)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustGetAttempts(t *testing.T, s *Store, id string) []Attempt {
	t.Helper()
	_, atts, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get %s: %v", id, err)
	}
	return atts
}

// testLeanAttempts: the last attempt lives in the jobs row, earlier ones in
// job_attempts; Get shows them all, once each, also for rows written before
// (every attempt in job_attempts).
func testLeanAttempts(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	at := func(j Job) Job { j.NextAt, j.CreatedAt = t0, t0; return j }
	mustEnqueue(t, s, at(callout("one")), at(callout("two")), at(callout("old")))
	mustClaim(t, s, "w", 3, t0)
	ok := Attempt{StartedAt: t0.Add(time.Second), Duration: 5 * time.Millisecond, StatusCode: 200, Response: []byte("ok")}
	boom := Attempt{StartedAt: t0.Add(time.Second), Duration: 7 * time.Millisecond, StatusCode: 500, Error: "HTTP 500", Response: []byte("boom")}
	if err := s.Complete(ctx, "one", "w", ok, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Reschedule(ctx, "two", "w", boom, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Fail(ctx, "old", "w", boom, nil); err != nil {
		t.Fatal(err)
	}
	// A first attempt writes no attempt row, and Get still shows it whole.
	if n := attemptRows(t, s, "one"); n != 0 {
		t.Errorf("job one: %d job_attempts rows after its first attempt, want 0", n)
	}
	want1 := ok
	want1.JobID, want1.N = "one", 1
	if diff := cmp.Diff([]Attempt{want1}, mustGetAttempts(t, s, "one")); diff != "" {
		t.Errorf("job one attempts (-want +got):\n%s", diff)
	}
	// The second attempt moves the first to job_attempts.
	mustClaim(t, s, "w", 1, t0.Add(time.Minute))
	ok2 := ok
	ok2.StartedAt = t0.Add(time.Minute + time.Second)
	if err := s.Complete(ctx, "two", "w", ok2, nil); err != nil {
		t.Fatal(err)
	}
	if n := attemptRows(t, s, "two"); n != 1 {
		t.Errorf("job two: %d job_attempts rows after two attempts, want 1", n)
	}
	w1, w2 := boom, ok2
	w1.JobID, w1.N, w2.JobID, w2.N = "two", 1, "two", 2
	if diff := cmp.Diff([]Attempt{w1, w2}, mustGetAttempts(t, s, "two")); diff != "" {
		t.Errorf("job two attempts (-want +got):\n%s", diff)
	}
	// A row written before 006 holds its last attempt in job_attempts as well.
	err := writeTx(ctx, s.db, func(tx tx) error {
		_, err := tx.exec(ctx, `INSERT INTO job_attempts (job_id, n, started_at, duration_us, status_code, error, response)
VALUES (?, 1, ?, 7000, 500, 'HTTP 500', ?)`, "old", boom.StartedAt, []byte("boom"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	wantOld := boom
	wantOld.JobID, wantOld.N = "old", 1
	if diff := cmp.Diff([]Attempt{wantOld}, mustGetAttempts(t, s, "old")); diff != "" {
		t.Errorf("old-style job attempts (-want +got):\n%s", diff)
	}
	// Re-driven, its next attempt keeps the old row and adds the new one.
	if err := s.Retry(ctx, "old", t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, s, "w", 1, t0.Add(2*time.Minute))
	if err := s.Complete(ctx, "old", "w", ok2, nil); err != nil {
		t.Fatal(err)
	}
	w3 := ok2
	w3.JobID, w3.N = "old", 2
	if diff := cmp.Diff([]Attempt{wantOld, w3}, mustGetAttempts(t, s, "old")); diff != "" {
		t.Errorf("old-style job re-driven (-want +got):\n%s", diff)
	}
}

// testEnqueueLeased: a job inserted leased is not claimable until its lease ends,
// its owner settles it without a claim, and a taken ID is refused.
func testEnqueueLeased(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	jobs := []Job{callout("mine"), callout("crashed")}
	for i := range jobs {
		jobs[i].NextAt, jobs[i].CreatedAt = t0, t0
	}
	if err := s.EnqueueLeased(ctx, jobs, nil, "n1", time.Minute, t0); err != nil {
		t.Fatal(err)
	}
	if jobs[0].LeaseOwner != "n1" || !jobs[0].LeaseUntil.Equal(t0.Add(time.Minute)) {
		t.Errorf("job lease %q until %v, want n1 until %v", jobs[0].LeaseOwner, jobs[0].LeaseUntil, t0.Add(time.Minute))
	}
	if got := mustClaim(t, s, "n2", 10, t0.Add(59*time.Second)); len(got) != 0 {
		t.Errorf("claimed %d leased jobs before their lease ended", len(got))
	}
	if err := s.Complete(ctx, "mine", "n1", Attempt{StartedAt: t0, StatusCode: 200}, nil); err != nil {
		t.Errorf("owner's Complete without a claim: %v", err)
	}
	got := mustClaim(t, s, "n2", 10, t0.Add(time.Minute))
	if len(got) != 1 || got[0].ID != "crashed" {
		t.Fatalf("after the lease: claimed %v, want the crashed node's job", got)
	}
	if err := s.Complete(ctx, "crashed", "n1", Attempt{StartedAt: t0, StatusCode: 200}, nil); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("first owner's Complete after the takeover: %v, want ErrLeaseLost", err)
	}
	err := s.EnqueueLeased(ctx, []Job{callout("mine")}, nil, "n1", time.Minute, t0)
	if !errors.Is(err, ErrDuplicate) {
		t.Errorf("EnqueueLeased of a taken ID: %v, want ErrDuplicate", err)
	}
	for _, tc := range []struct {
		owner string
		lease time.Duration
		want  string
	}{
		{"", time.Minute, "store: enqueue leased: empty owner"},
		{"n1", 0, "store: enqueue leased: lease must be positive, got 0s"},
	} {
		if err := s.EnqueueLeased(ctx, []Job{callout("x")}, nil, tc.owner, tc.lease, t0); err == nil || err.Error() != tc.want {
			t.Errorf("EnqueueLeased(%q, %v) = %v, want %q", tc.owner, tc.lease, err, tc.want)
		}
	}
}

// testMergedEnqueueDuplicate: concurrent Enqueue calls share one merged INSERT;
// when one of them holds a taken ID, only that call fails and the others' jobs
// are all stored.
func testMergedEnqueueDuplicate(t *testing.T, open opener) {
	s, _ := open(t)
	mustEnqueue(t, s, callout("taken"))
	const callers = 40
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			jobs := []Job{callout(fmt.Sprintf("c%02d-a", i)), callout(fmt.Sprintf("c%02d-b", i))}
			if i == 17 {
				jobs[1] = callout("taken")
			}
			if i%2 == 0 {
				errs[i] = s.EnqueueLeased(context.Background(), jobs, nil, "n1", time.Minute, t0)
			} else {
				errs[i] = s.Enqueue(context.Background(), jobs)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		_, _, getErr := s.Get(context.Background(), fmt.Sprintf("c%02d-a", i))
		switch {
		case i == 17:
			if !errors.Is(err, ErrDuplicate) || !errors.Is(getErr, ErrNotFound) {
				t.Errorf("caller 17 (taken ID): err %v, its other job %v; want ErrDuplicate and not stored", err, getErr)
			}
		case err != nil || getErr != nil:
			t.Errorf("caller %d: err %v, Get %v", i, err, getErr)
		}
	}
}
