package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// opener opens a fresh, empty store for one test; the store is closed by the test's
// cleanup. reopen opens another handle on the same database.
type opener func(t *testing.T) (s *Store, reopen func() *Store)

// t0 is the suite's fixed clock origin.
var t0 = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

// runStoreSuite runs the behaviour every backend must share.
func runStoreSuite(t *testing.T, open opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open opener)
	}{
		{"EnqueueGet", testEnqueueGet},
		{"EnqueueValidation", testEnqueueValidation},
		{"EnqueueDuplicate", testEnqueueDuplicate},
		{"ClaimOrderAndDue", testClaimOrderAndDue},
		{"CompleteWithFollowUp", testCompleteWithFollowUp},
		{"RescheduleThenFail", testRescheduleThenFail},
		{"LeaseExpiryAndLeaseLost", testLeaseExpiry},
		{"SettleBatch", testSettleBatch},
		{"SettleValidation", testSettleValidation},
		{"SettleLarge", testSettleLarge},
		{"FollowUpAtomic", testFollowUpAtomic},
		{"AttemptResponseCap", testAttemptResponseCap},
		{"Release", testRelease},
		{"Retry", testRetry},
		{"ListFilters", testList},
		{"Stats", testStats},
		{"NextDue", testNextDue},
		{"Purge", testPurge},
		{"MigrationsIdempotent", testMigrationsIdempotent},
		{"Webhooks", testWebhooks},
		{"Targets", testTargets},
		{"CallbackTokens", testCallbackTokens},
		{"CallbackFunctions", testCallbackFunctions},
		{"ListForms", testListForms},
		{"ConcurrentEnqueue", testConcurrentEnqueue},
		{"Closed", testClosed},
		{"Overrides", testOverrides},
		{"RuleStats", testRuleStats},
		{"CalloutStats", testCalloutStats},
		{"BulkRetry", testBulkRetry},
		{"History", testHistory}, {"HistoryAtomic", testHistoryAtomic}, {"HistoryAppend", testHistoryAppend}, {"HistoryPurge", testHistoryPurge}, {"HistoryRules", testHistoryRules},
		{"LeanAttempts", testLeanAttempts},
		{"EnqueueLeased", testEnqueueLeased},
		{"MergedEnqueueDuplicate", testMergedEnqueueDuplicate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each test has its own database
			tc.fn(t, open)
		})
	}
}

func callout(id string) Job {
	return Job{ID: id, Kind: KindCallout, Callout: "VSA close alert", Rule: "Close RMM alert", Form: "Ticket",
		EntryID: "8176", EventKind: "update", Payload: []byte(`{"method":"POST"}`), MaxAttempts: 3}
}

func mustEnqueue(t *testing.T, s *Store, jobs ...Job) []Job {
	t.Helper()
	if err := s.Enqueue(context.Background(), jobs); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	return jobs
}

func mustClaim(t *testing.T, s *Store, owner string, limit int, now time.Time) []Job {
	t.Helper()
	jobs, err := s.Claim(context.Background(), owner, limit, time.Minute, now)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return jobs
}

func ids(jobs []Job) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.ID
	}
	return out
}

func attempt(start time.Time, code int, errText string) Attempt {
	return Attempt{StartedAt: start, Duration: 1500 * time.Microsecond, StatusCode: code, Error: errText, Response: []byte("ok")}
}

func testEnqueueGet(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	in := callout("dlv_1")
	in.CreatedAt = t0
	in.NextAt = t0.Add(time.Second)
	jobs := mustEnqueue(t, s, in, Job{Kind: KindEmail, MaxAttempts: 1, ParentID: "dlv_1"})
	if jobs[1].ID == "" || len(jobs[1].ID) != len(JobIDPrefix)+26 {
		t.Fatalf("generated ID = %q, want dlv_ + 26 characters", jobs[1].ID)
	}
	got, atts, err := s.Get(ctx, "dlv_1")
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.Status, want.UpdatedAt = StatusPending, t0
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
	if len(atts) != 0 {
		t.Errorf("attempts = %v, want none", atts)
	}
	email, _, err := s.Get(ctx, jobs[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if email.Kind != KindEmail || email.ParentID != "dlv_1" || len(email.Payload) != 0 {
		t.Errorf("email job = %+v, want kind email, parent dlv_1, empty payload", email)
	}
	if email.NextAt.IsZero() || !email.NextAt.Equal(email.CreatedAt) {
		t.Errorf("email NextAt = %v, CreatedAt = %v: want NextAt defaulted to CreatedAt", email.NextAt, email.CreatedAt)
	}
	_, _, err = s.Get(ctx, "dlv_missing")
	if got, want := fmt.Sprint(err), "store: job dlv_missing: not found"; got != want || !errors.Is(err, ErrNotFound) {
		t.Errorf("Get missing: err = %q, want %q wrapping ErrNotFound", got, want)
	}
	if err := s.Enqueue(ctx, nil); err != nil {
		t.Errorf("Enqueue(nil) = %v, want nil", err)
	}
}

func testEnqueueValidation(t *testing.T, open opener) {
	s, _ := open(t)
	long := make([]byte, 201)
	for i := range long {
		long[i] = 'x'
	}
	tests := []struct {
		name    string
		job     Job
		wantErr string
	}{
		{"bad kind", Job{ID: "dlv_a", Kind: "sms", MaxAttempts: 1}, `store: job dlv_a: kind "sms", want callout, email or note`},
		{"no kind", Job{ID: "dlv_a", MaxAttempts: 1}, `store: job dlv_a: kind "", want callout, email or note`},
		{"zero attempts", Job{ID: "dlv_a", Kind: KindCallout}, "store: job dlv_a: max attempts must be at least 1, got 0"},
		{"negative attempts", Job{ID: "dlv_a", Kind: KindEmail, MaxAttempts: -2}, "store: job dlv_a: max attempts must be at least 1, got -2"},
		{"long id", Job{ID: string(long), Kind: KindEmail, MaxAttempts: 1}, "store: job 0: ID longer than 200 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Enqueue(context.Background(), []Job{tc.job})
			if got := fmt.Sprint(err); got != tc.wantErr {
				t.Errorf("err = %q, want %q", got, tc.wantErr)
			}
		})
	}
	st, err := s.Stats(context.Background(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if st != (Stats{}) {
		t.Errorf("after invalid enqueues Stats = %+v, want all zero", st)
	}
}

func testEnqueueDuplicate(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	mustEnqueue(t, s, callout("dlv_dup"))
	err := s.Enqueue(ctx, []Job{callout("dlv_new"), callout("dlv_dup")})
	if got, want := fmt.Sprint(err), "store: job dlv_dup: duplicate ID"; got != want || !errors.Is(err, ErrDuplicate) {
		t.Errorf("err = %q, want %q wrapping ErrDuplicate", got, want)
	}
	if _, _, err := s.Get(ctx, "dlv_new"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the batch's other job: Get err = %v, want not found (all or nothing)", err)
	}
	err = s.Enqueue(ctx, []Job{callout("dlv_twice"), callout("dlv_twice")})
	if got, want := fmt.Sprint(err), "store: job dlv_twice: duplicate ID in one batch"; got != want {
		t.Errorf("err = %q, want %q", got, want)
	}
}

func testClaimOrderAndDue(t *testing.T, open opener) {
	s, _ := open(t)
	a, b, c, future := callout("dlv_a"), callout("dlv_b"), callout("dlv_c"), callout("dlv_future")
	a.NextAt, b.NextAt, c.NextAt = t0.Add(2*time.Second), t0, t0.Add(time.Second)
	future.NextAt = t0.Add(time.Hour)
	mustEnqueue(t, s, a, b, c, future)

	got := mustClaim(t, s, "w1", 2, t0.Add(5*time.Second))
	if diff := cmp.Diff([]string{"dlv_b", "dlv_c"}, ids(got)); diff != "" {
		t.Errorf("first claim (-want +got):\n%s", diff)
	}
	for _, j := range got {
		if j.LeaseOwner != "w1" || !j.LeaseUntil.Equal(t0.Add(5*time.Second+time.Minute)) {
			t.Errorf("%s: lease = %q until %v, want w1 until %v", j.ID, j.LeaseOwner, j.LeaseUntil, t0.Add(65*time.Second))
		}
	}
	got = mustClaim(t, s, "w2", 10, t0.Add(5*time.Second))
	if diff := cmp.Diff([]string{"dlv_a"}, ids(got)); diff != "" {
		t.Errorf("second claim (-want +got):\n%s", diff)
	}
	if got := mustClaim(t, s, "w3", 10, t0.Add(5*time.Second)); len(got) != 0 {
		t.Errorf("third claim = %v, want nothing (all leased or not due)", ids(got))
	}

	tests := []struct {
		owner   string
		limit   int
		lease   time.Duration
		wantErr string
	}{
		{"", 1, time.Second, "store: claim: empty owner"},
		{"w", 0, time.Second, "store: claim: limit must be positive, got 0"},
		{"w", 1, 0, "store: claim: lease must be positive, got 0s"},
	}
	for _, tc := range tests {
		_, err := s.Claim(context.Background(), tc.owner, tc.limit, tc.lease, t0)
		if got := fmt.Sprint(err); got != tc.wantErr {
			t.Errorf("Claim(%q, %d, %v) err = %q, want %q", tc.owner, tc.limit, tc.lease, got, tc.wantErr)
		}
	}
}

func testCompleteWithFollowUp(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	in := callout("dlv_ok")
	in.NextAt = t0
	mustEnqueue(t, s, in)
	mustClaim(t, s, "w1", 1, t0)
	follow := []Job{{Kind: KindEmail, MaxAttempts: 5, ParentID: "dlv_ok", Payload: []byte(`{"subject":"delivered"}`)}}
	start := t0.Add(time.Second)
	if err := s.Complete(ctx, "dlv_ok", "w1", attempt(start, 200, ""), follow); err != nil {
		t.Fatal(err)
	}
	if follow[0].ID == "" {
		t.Fatal("Complete did not fill in the follow-up's ID")
	}
	got, atts, err := s.Get(ctx, "dlv_ok")
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.CreatedAt = got.CreatedAt
	want.Status, want.Attempts, want.LastStatusCode = StatusDelivered, 1, 200
	want.FirstAttemptAt, want.LastAttemptAt = start, start
	want.UpdatedAt = start.Add(1500 * time.Microsecond)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delivered job (-want +got):\n%s", diff)
	}
	wantAtts := []Attempt{{JobID: "dlv_ok", N: 1, StartedAt: start, Duration: 1500 * time.Microsecond, StatusCode: 200, Response: []byte("ok")}}
	if diff := cmp.Diff(wantAtts, atts); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
	emails, err := s.List(ctx, Filter{ParentID: "dlv_ok"})
	if err != nil {
		t.Fatal(err)
	}
	if len(emails) != 1 || emails[0].ID != follow[0].ID || emails[0].Status != StatusPending || string(emails[0].Payload) != `{"subject":"delivered"}` {
		t.Errorf("follow-up jobs = %+v, want the pending e-mail %s", emails, follow[0].ID)
	}
	// Settling twice: the lease is gone with the first.
	err = s.Complete(ctx, "dlv_ok", "w1", attempt(start, 200, ""), nil)
	if got, want := fmt.Sprint(err), "store: job dlv_ok: lease lost"; got != want || !errors.Is(err, ErrLeaseLost) {
		t.Errorf("second Complete err = %q, want %q", got, want)
	}
	err = s.Complete(ctx, "dlv_nope", "w1", attempt(start, 200, ""), nil)
	if got, want := fmt.Sprint(err), "store: job dlv_nope: not found"; got != want || !errors.Is(err, ErrNotFound) {
		t.Errorf("Complete missing err = %q, want %q", got, want)
	}
}

func testRescheduleThenFail(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	in := callout("dlv_retry")
	in.NextAt = t0
	mustEnqueue(t, s, in)

	now := t0
	for i := 1; i <= 2; i++ {
		if got := mustClaim(t, s, "w1", 1, now); len(got) != 1 {
			t.Fatalf("claim %d: got %d jobs, want 1", i, len(got))
		}
		next := now.Add(time.Minute)
		if err := s.Reschedule(ctx, "dlv_retry", "w1", attempt(now, 503, "503 Service Unavailable"), next); err != nil {
			t.Fatal(err)
		}
		if got := mustClaim(t, s, "w1", 1, next.Add(-time.Second)); len(got) != 0 {
			t.Fatalf("claim before next_at returned %v", ids(got))
		}
		now = next
	}
	mustClaim(t, s, "w1", 1, now)
	if err := s.Fail(ctx, "dlv_retry", "w1", attempt(now, 0, "dial tcp: connection refused"), []Job{{Kind: KindEmail, MaxAttempts: 3, ParentID: "dlv_retry"}}); err != nil {
		t.Fatal(err)
	}
	got, atts, err := s.Get(ctx, "dlv_retry")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusFailed || got.Attempts != 3 || got.LastStatusCode != 0 || got.LastError != "dial tcp: connection refused" ||
		!got.FirstAttemptAt.Equal(t0) || !got.LastAttemptAt.Equal(now) || got.LeaseOwner != "" || !got.LeaseUntil.IsZero() ||
		!got.NextAt.Equal(now) {
		t.Errorf("failed job = %+v", got)
	}
	var codes []int
	for i, a := range atts {
		if a.N != i+1 {
			t.Errorf("attempt %d numbered %d", i+1, a.N)
		}
		codes = append(codes, a.StatusCode)
	}
	if diff := cmp.Diff([]int{503, 503, 0}, codes); diff != "" {
		t.Errorf("attempt status codes (-want +got):\n%s", diff)
	}
	if mails, _ := s.List(ctx, Filter{Kind: KindEmail}); len(mails) != 1 || mails[0].ParentID != "dlv_retry" {
		t.Errorf("e-mail jobs after Fail = %+v, want one for dlv_retry", mails)
	}
}

func testLeaseExpiry(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	in := callout("dlv_lease")
	in.NextAt = t0
	mustEnqueue(t, s, in)
	if got := mustClaim(t, s, "crashed", 1, t0); len(got) != 1 {
		t.Fatalf("claim: %v", ids(got))
	}
	// Still leased 59 s later; claimable once the minute is up.
	if got := mustClaim(t, s, "w2", 1, t0.Add(59*time.Second)); len(got) != 0 {
		t.Fatalf("claimed a leased job: %v", ids(got))
	}
	got := mustClaim(t, s, "w2", 1, t0.Add(time.Minute))
	if len(got) != 1 || got[0].LeaseOwner != "w2" {
		t.Fatalf("reclaim after expiry = %+v, want dlv_lease leased to w2", got)
	}
	err := s.Complete(ctx, "dlv_lease", "crashed", attempt(t0, 200, ""), nil)
	if got, want := fmt.Sprint(err), "store: job dlv_lease: lease lost"; got != want || !errors.Is(err, ErrLeaseLost) {
		t.Errorf("old owner's Complete err = %q, want %q", got, want)
	}
	if err := s.Reschedule(ctx, "dlv_lease", "crashed", attempt(t0, 500, "x"), t0.Add(time.Hour)); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("old owner's Reschedule err = %v, want lease lost", err)
	}
	j, atts, _ := s.Get(ctx, "dlv_lease")
	if j.Attempts != 0 || len(atts) != 0 || j.LeaseOwner != "w2" {
		t.Errorf("after lost-lease settles job = %+v, %d attempts; want untouched, leased to w2", j, len(atts))
	}
	if err := s.Complete(ctx, "dlv_lease", "w2", attempt(t0.Add(time.Minute), 204, ""), nil); err != nil {
		t.Errorf("new owner's Complete: %v", err)
	}
}

func testSettleBatch(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	var in []Job
	for i := range 5 {
		j := callout(fmt.Sprintf("dlv_%d", i))
		j.NextAt = t0
		in = append(in, j)
	}
	mustEnqueue(t, s, in...)
	mustClaim(t, s, "w1", 4, t0) // dlv_4 is not claimed
	outs := []Outcome{
		{ID: "dlv_0", Status: StatusDelivered, Attempt: attempt(t0, 200, "")},
		{ID: "dlv_1", Status: StatusPending, NextAt: t0.Add(time.Minute), Attempt: attempt(t0, 500, "boom")},
		{ID: "dlv_2", Status: StatusFailed, Attempt: attempt(t0, 400, "bad"), Follow: []Job{{Kind: KindEmail, MaxAttempts: 1}}},
		{ID: "dlv_4", Status: StatusDelivered, Attempt: attempt(t0, 200, "")},
		{ID: "dlv_x", Status: StatusDelivered, Attempt: attempt(t0, 200, "")},
	}
	res, err := s.Settle(ctx, "w1", outs)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range res {
		got = append(got, fmt.Sprint(e))
	}
	want := []string{"<nil>", "<nil>", "<nil>", "store: job dlv_4: lease lost", "store: job dlv_x: not found"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Settle results (-want +got):\n%s", diff)
	}
	st, err := s.Stats(ctx, t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// pending: dlv_1 (rescheduled), dlv_3 (leased), dlv_4, the e-mail.
	wantSt := Stats{Pending: 4, Due: 2, Leased: 1, Delivered: 1, Failed: 1}
	if diff := cmp.Diff(wantSt, st, cmpopts.IgnoreFields(Stats{}, "OldestPendingAge")); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

func testSettleValidation(t *testing.T, open opener) {
	s, _ := open(t)
	a := attempt(t0, 200, "")
	tests := []struct {
		name    string
		owner   string
		out     Outcome
		wantErr string
	}{
		{"no owner", "", Outcome{ID: "dlv_1", Status: StatusDelivered, Attempt: a}, "store: settle: empty owner"},
		{"no id", "w", Outcome{Status: StatusDelivered, Attempt: a}, "store: settle: empty job ID"},
		{"bad status", "w", Outcome{ID: "dlv_1", Status: "done", Attempt: a}, `store: job dlv_1: settle: status "done", want delivered, failed or pending`},
		{"reschedule without time", "w", Outcome{ID: "dlv_1", Status: StatusPending, Attempt: a}, "store: job dlv_1: reschedule: zero next time"},
		{"no start", "w", Outcome{ID: "dlv_1", Status: StatusDelivered}, "store: job dlv_1: attempt without a start time"},
		{"negative duration", "w", Outcome{ID: "dlv_1", Status: StatusFailed, Attempt: Attempt{StartedAt: t0, Duration: -time.Second}}, "store: job dlv_1: attempt with negative duration -1s"},
		{"bad follow-up", "w", Outcome{ID: "dlv_1", Status: StatusFailed, Attempt: a, Follow: []Job{{ID: "eml_1", Kind: "fax", MaxAttempts: 1}}}, `store: job eml_1: kind "fax", want callout, email or note`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Settle(context.Background(), tc.owner, []Outcome{tc.out})
			if got := fmt.Sprint(err); got != tc.wantErr {
				t.Errorf("err = %q, want %q", got, tc.wantErr)
			}
		})
	}
}

// testSettleLarge settles more outcomes than one statement holds.
func testSettleLarge(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	want := enqueueN(t, s, 300)
	jobs := mustClaim(t, s, "w", 1000, t0)
	if len(jobs) != len(want) {
		t.Fatalf("claimed %d, want %d", len(jobs), len(want))
	}
	outs := make([]Outcome, len(jobs))
	for i, j := range jobs {
		outs[i] = Outcome{ID: j.ID, Status: StatusPending, NextAt: t0.Add(time.Duration(i) * time.Second), Attempt: attempt(t0, 502, "bad gateway"),
			Follow: []Job{{Kind: KindEmail, MaxAttempts: 1, ParentID: j.ID, NextAt: t0.Add(time.Hour)}}}
	}
	res, err := s.Settle(ctx, "w", outs)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range res {
		if e != nil {
			t.Fatalf("result %d: %v", i, e)
		}
	}
	for _, i := range []int{0, 129, 299} {
		j, atts, err := s.Get(ctx, jobs[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		if j.Attempts != 1 || len(atts) != 1 || atts[0].N != 1 || !j.NextAt.Equal(t0.Add(time.Duration(i)*time.Second)) || j.LeaseOwner != "" {
			t.Errorf("job %d after Settle = %+v, %d attempts", i, j, len(atts))
		}
	}
	st, _ := s.Stats(ctx, t0.Add(time.Minute))
	if st.Pending != 600 || st.Due != 61 {
		t.Errorf("Stats = %+v, want 600 pending (300 jobs + 300 e-mails), 61 due", st)
	}
	_, err = s.Settle(ctx, "w", []Outcome{outs[0], outs[0]})
	if got, want := fmt.Sprint(err), "store: job "+outs[0].ID+": settled twice in one call"; got != want {
		t.Errorf("duplicate outcome err = %q, want %q", got, want)
	}
}

// testFollowUpAtomic: a follow-up that cannot be stored undoes the whole outcome.
func testFollowUpAtomic(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	j := callout("dlv_main")
	j.NextAt = t0
	mustEnqueue(t, s, j, Job{ID: "eml_taken", Kind: KindEmail, MaxAttempts: 1, NextAt: t0.Add(time.Hour)})
	mustClaim(t, s, "w1", 1, t0)
	err := s.Complete(ctx, "dlv_main", "w1", attempt(t0, 200, ""), []Job{{ID: "eml_taken", Kind: KindEmail, MaxAttempts: 1}})
	if got, want := fmt.Sprint(err), "store: job eml_taken: duplicate ID"; got != want {
		t.Fatalf("err = %q, want %q", got, want)
	}
	got, atts, _ := s.Get(ctx, "dlv_main")
	if got.Status != StatusPending || got.Attempts != 0 || len(atts) != 0 || got.LeaseOwner != "w1" {
		t.Errorf("job after failed Complete = %+v with %d attempts; want unchanged (pending, leased to w1)", got, len(atts))
	}
	if err := s.Complete(ctx, "dlv_main", "w1", attempt(t0, 200, ""), []Job{{ID: "eml_fresh", Kind: KindEmail, MaxAttempts: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(ctx, "eml_fresh"); err != nil {
		t.Errorf("follow-up of successful Complete: %v", err)
	}
}

func testAttemptResponseCap(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	j := callout("dlv_big")
	j.NextAt = t0
	mustEnqueue(t, s, j)
	mustClaim(t, s, "w1", 1, t0)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1000) // 16,000 bytes
	a := Attempt{StartedAt: t0, Duration: 2 * time.Second, StatusCode: 500, Error: "HTTP 500", Response: big}
	if err := s.Reschedule(ctx, "dlv_big", "w1", a, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, atts, err := s.Get(ctx, "dlv_big")
	if err != nil {
		t.Fatal(err)
	}
	if len(atts) != 1 || !bytes.Equal(atts[0].Response, big[:4096]) || atts[0].Duration != 2*time.Second {
		t.Fatalf("attempt response = %d bytes (duration %v), want the first 4096 bytes (2s)", len(atts[0].Response), atts[0].Duration)
	}
}

func testRelease(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	for i := range 3 {
		j := callout(fmt.Sprintf("dlv_r%d", i))
		j.NextAt = t0
		mustEnqueue(t, s, j)
	}
	mustClaim(t, s, "w1", 2, t0)
	mustClaim(t, s, "w2", 1, t0)
	n, err := s.Release(ctx, "w1")
	if err != nil || n != 2 {
		t.Fatalf("Release = %d, %v; want 2, nil", n, err)
	}
	if got := mustClaim(t, s, "w3", 5, t0); len(got) != 2 {
		t.Errorf("after Release, claim got %v, want the 2 released jobs", ids(got))
	}
	if _, err := s.Release(ctx, ""); fmt.Sprint(err) != "store: release: empty owner" {
		t.Errorf("Release(\"\") err = %v", err)
	}
}

func testRetry(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	j := callout("dlv_redrive")
	j.NextAt = t0
	j.MaxAttempts = 1
	mustEnqueue(t, s, j)
	mustClaim(t, s, "w1", 1, t0)
	if err := s.Fail(ctx, "dlv_redrive", "w1", attempt(t0, 404, "HTTP 404"), nil); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(time.Hour)
	if err := s.Retry(ctx, "dlv_redrive", later); err != nil {
		t.Fatal(err)
	}
	got, atts, _ := s.Get(ctx, "dlv_redrive")
	if got.Status != StatusPending || !got.NextAt.Equal(later) || got.Attempts != 1 || got.MaxAttempts != 2 || len(atts) != 1 || got.LastError != "HTTP 404" {
		t.Errorf("after Retry job = %+v; want pending at %v, 1 attempt kept, max attempts 2", got, later)
	}
	// A pending job is only pulled forward.
	if err := s.Retry(ctx, "dlv_redrive", later.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, _, _ = s.Get(ctx, "dlv_redrive")
	if got.MaxAttempts != 2 || !got.NextAt.Equal(later.Add(-time.Minute)) {
		t.Errorf("Retry of pending job = %+v; want max attempts unchanged, next at now", got)
	}
	if got := mustClaim(t, s, "w1", 1, later); len(got) != 1 {
		t.Fatalf("re-driven job not claimable")
	}
	if err := s.Complete(ctx, "dlv_redrive", "w1", attempt(later, 200, ""), nil); err != nil {
		t.Fatal(err)
	}
	// A delivered job is not sent again.
	err := s.Retry(ctx, "dlv_redrive", later)
	if got, want := fmt.Sprint(err), "store: job dlv_redrive: already delivered"; got != want || !errors.Is(err, ErrDelivered) {
		t.Errorf("Retry delivered err = %q, want %q", got, want)
	}
	if got, _, _ := s.Get(ctx, "dlv_redrive"); got.Status != StatusDelivered {
		t.Errorf("Retry changed a delivered job: %+v", got)
	}
	err = s.Retry(ctx, "dlv_gone", later)
	if got, want := fmt.Sprint(err), "store: job dlv_gone: not found"; got != want {
		t.Errorf("Retry missing err = %q, want %q", got, want)
	}
}

func testList(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	var all []Job
	for i := range 7 {
		j := callout(fmt.Sprintf("dlv_%02d", i))
		if i%2 == 1 {
			j.Callout = "other"
		}
		if i == 6 {
			j.Kind, j.Callout, j.EntryID = KindEmail, "", "9000"
		}
		all = append(all, j)
	}
	mustEnqueue(t, s, all...)
	tests := []struct {
		name string
		f    Filter
		want []string
	}{
		{"all", Filter{}, []string{"dlv_00", "dlv_01", "dlv_02", "dlv_03", "dlv_04", "dlv_05", "dlv_06"}},
		{"callout", Filter{Callout: "other"}, []string{"dlv_01", "dlv_03", "dlv_05"}},
		{"kind", Filter{Kind: KindEmail}, []string{"dlv_06"}},
		{"entry", Filter{Form: "Ticket", EntryID: "9000"}, []string{"dlv_06"}},
		{"page 1", Filter{Limit: 3}, []string{"dlv_00", "dlv_01", "dlv_02"}},
		{"page 2", Filter{Limit: 3, After: "dlv_02"}, []string{"dlv_03", "dlv_04", "dlv_05"}},
		{"status", Filter{Status: StatusDelivered}, nil},
		{"combined", Filter{Status: StatusPending, Kind: KindCallout, Callout: "VSA close alert", After: "dlv_00"}, []string{"dlv_02", "dlv_04"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.List(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, ids(got), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("List(%+v) (-want +got):\n%s", tc.f, diff)
			}
		})
	}
	errTests := []struct {
		f       Filter
		wantErr string
	}{
		{Filter{Status: "done"}, `store: list: status "done", want pending, delivered or failed`},
		{Filter{Kind: "fax"}, `store: list: kind "fax", want callout, email or note`},
	}
	for _, tc := range errTests {
		if _, err := s.List(ctx, tc.f); fmt.Sprint(err) != tc.wantErr {
			t.Errorf("List(%+v) err = %v, want %q", tc.f, err, tc.wantErr)
		}
	}
}

func testStats(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	old, young, later := callout("dlv_old"), callout("dlv_young"), callout("dlv_later")
	old.CreatedAt, young.CreatedAt, later.CreatedAt = t0.Add(-10*time.Minute), t0.Add(-time.Minute), t0
	later.NextAt = t0.Add(time.Hour)
	mustEnqueue(t, s, old, young, later)
	mustClaim(t, s, "w", 1, t0)
	st, err := s.Stats(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{Pending: 3, Due: 1, Leased: 1, OldestPendingAge: 10 * time.Minute}
	if st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
}

func testNextDue(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	if _, ok, err := s.NextDue(ctx, t0); ok || err != nil {
		t.Fatalf("NextDue on empty store = %v, %v; want false, nil", ok, err)
	}
	a, b := callout("dlv_a"), callout("dlv_b")
	a.NextAt, b.NextAt = t0, t0.Add(5*time.Minute)
	mustEnqueue(t, s, a, b)
	next, ok, err := s.NextDue(ctx, t0)
	if err != nil || !ok || !next.Equal(t0) {
		t.Fatalf("NextDue = %v, %v, %v; want %v", next, ok, err, t0)
	}
	mustClaim(t, s, "w", 1, t0) // dlv_a leased until t0+1m
	if next, _, _ := s.NextDue(ctx, t0); !next.Equal(t0.Add(time.Minute)) {
		t.Errorf("NextDue with dlv_a leased = %v, want its lease end %v", next, t0.Add(time.Minute))
	}
}

func testPurge(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	a, b := callout("dlv_done"), callout("dlv_pending")
	a.NextAt, b.NextAt = t0, t0
	mustEnqueue(t, s, a, b)
	mustClaim(t, s, "w", 1, t0)
	if err := s.Complete(ctx, "dlv_done", "w", attempt(t0, 200, ""), nil); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Purge(ctx, t0); err != nil || n != 0 {
		t.Fatalf("Purge before the job ended = %d, %v; want 0", n, err)
	}
	if n, err := s.Purge(ctx, t0.Add(24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v; want 1", n, err)
	}
	if _, _, err := s.Get(ctx, "dlv_done"); !errors.Is(err, ErrNotFound) {
		t.Errorf("purged job still there: %v", err)
	}
	if _, _, err := s.Get(ctx, "dlv_pending"); err != nil {
		t.Errorf("pending job purged: %v", err)
	}
}

func testMigrationsIdempotent(t *testing.T, open opener) {
	s, reopen := open(t)
	mustEnqueue(t, s, callout("dlv_keep"))
	s2 := reopen()
	s3 := reopen()
	for _, h := range []*Store{s2, s3} {
		if _, _, err := h.Get(context.Background(), "dlv_keep"); err != nil {
			t.Errorf("reopened store lost dlv_keep: %v", err)
		}
	}
	var versions []int
	err := readTx(context.Background(), s3.db, func(t tx) error {
		r, err := t.query(context.Background(), "SELECT version FROM schema_migrations ORDER BY version")
		if err != nil {
			return err
		}
		defer r.Close()
		for r.Next() {
			var v int
			if err := r.Scan(&v); err != nil {
				return err
			}
			versions = append(versions, v)
		}
		return r.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations(migrationFS, "migrations/"+string(s3.db.driver()))
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int, len(ms)) // every migration, once
	for i := range want {
		want[i] = i + 1
	}
	if diff := cmp.Diff(want, versions); diff != "" {
		t.Errorf("schema_migrations (-want +got):\n%s", diff)
	}
}

func testWebhooks(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	rev0, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	in := Webhook{Form: "HPD:Help Desk", Events: NormalizeEvents([]string{"Update", "create", " delete", "create"}),
		URL: "http://127.0.0.1:9000/webhook", Document: []byte(`{"description":"testWebhook"}`)}
	if in.Events != "create,delete,update" {
		t.Fatalf("NormalizeEvents = %q", in.Events)
	}
	w1, err := s.CreateWebhook(ctx, in, t0)
	if err != nil {
		t.Fatal(err)
	}
	in2 := in
	in2.Events = "create"
	w2, err := s.CreateWebhook(ctx, in2, t0)
	if err != nil {
		t.Fatal(err)
	}
	if w1.ID != "WBH000000000001" || w2.ID != "WBH000000000002" {
		t.Errorf("ids = %s, %s; want WBH000000000001, WBH000000000002", w1.ID, w2.ID)
	}
	_, err = s.CreateWebhook(ctx, in, t0)
	want := `store: webhook for form "HPD:Help Desk", events "create,delete,update" and url "http://127.0.0.1:9000/webhook": duplicate of WBH000000000001`
	if got := fmt.Sprint(err); got != want || !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate create err = %q, want %q", got, want)
	}
	got, err := s.GetWebhook(ctx, w1.ID)
	if err != nil {
		t.Fatal(err)
	}
	want1 := in
	want1.ID, want1.CreatedAt, want1.UpdatedAt = "WBH000000000001", t0, t0
	if diff := cmp.Diff(want1, got); diff != "" {
		t.Errorf("GetWebhook (-want +got):\n%s", diff)
	}
	// Update w2 to collide with w1: duplicate; then to something new: fine.
	upd := w2
	upd.Events = in.Events
	if _, err := s.UpdateWebhook(ctx, upd, t0.Add(time.Minute)); !errors.Is(err, ErrDuplicate) {
		t.Errorf("colliding update err = %v, want duplicate", err)
	}
	upd.Events, upd.Document = "delete", []byte(`{"v":2}`)
	updated, err := s.UpdateWebhook(ctx, upd, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !updated.CreatedAt.Equal(t0) || !updated.UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("updated times = %v / %v", updated.CreatedAt, updated.UpdatedAt)
	}
	missing := upd
	missing.ID = "WBH000000000099"
	if _, err := s.UpdateWebhook(ctx, missing, t0); fmt.Sprint(err) != "store: webhook WBH000000000099: not found" {
		t.Errorf("update missing err = %v", err)
	}
	if err := s.DeleteWebhook(ctx, w1.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWebhook(ctx, w1.ID); fmt.Sprint(err) != "store: webhook WBH000000000001: not found" || !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete err = %v", err)
	}
	if _, err := s.GetWebhook(ctx, w1.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("get deleted err = %v", err)
	}
	w3, err := s.CreateWebhook(ctx, in, t0) // same key as the deleted one: allowed, fresh id
	if err != nil || w3.ID != "WBH000000000003" {
		t.Errorf("re-create = %s, %v; want WBH000000000003 (ids are never reused)", w3.ID, err)
	}
	list, err := s.ListWebhooks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var listIDs []string
	for _, w := range list {
		listIDs = append(listIDs, w.ID)
	}
	if diff := cmp.Diff([]string{"WBH000000000002", "WBH000000000003"}, listIDs); diff != "" {
		t.Errorf("ListWebhooks (-want +got):\n%s", diff)
	}
	rev, _ := s.Revision(ctx)
	if rev != rev0+5 { // 3 creates, 1 update, 1 delete
		t.Errorf("revision = %d, want %d", rev, rev0+5)
	}
	// The configuration file holds WBH000000000101: API ids continue after it,
	// and skipping to a lower number later does not move the sequence back.
	for _, n := range []int64{101, 50} {
		if err := s.SkipWebhookIDs(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	in4 := in
	in4.URL = "http://127.0.0.1:9000/other"
	if w4, err := s.CreateWebhook(ctx, in4, t0); err != nil || w4.ID != "WBH000000000102" {
		t.Errorf("after SkipWebhookIDs(101) CreateWebhook = %s, %v; want WBH000000000102", w4.ID, err)
	}
	badTests := []struct {
		w       Webhook
		wantErr string
	}{
		{Webhook{Events: "create", URL: "u"}, "store: webhook: empty form"},
		{Webhook{Form: "F", URL: "u"}, "store: webhook: no events"},
		{Webhook{Form: "F", Events: "update,create", URL: "u"}, `store: webhook: events "update,create" not normalised (use NormalizeEvents)`},
		{Webhook{Form: "F", Events: "create"}, "store: webhook: empty callback URL"},
	}
	for _, tc := range badTests {
		if _, err := s.CreateWebhook(ctx, tc.w, t0); fmt.Sprint(err) != tc.wantErr {
			t.Errorf("CreateWebhook(%+v) err = %v, want %q", tc.w, err, tc.wantErr)
		}
	}
}

func testTargets(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	h := HashToken("secret-token-1")
	tg, err := s.CreateTarget(ctx, Target{Name: "jira", TokenHash: h, IParams: []byte(`{"project":"OPS"}`)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := IDTime(TargetIDPrefix, tg.ID); !ok {
		t.Errorf("target id %q is not tgt_+ULID", tg.ID)
	}
	got, err := s.TargetByTokenHash(ctx, HashToken("secret-token-1"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tg, got); diff != "" {
		t.Errorf("TargetByTokenHash (-want +got):\n%s", diff)
	}
	if _, err := s.TargetByTokenHash(ctx, HashToken("wrong")); fmt.Sprint(err) != "store: target with this token: not found" {
		t.Errorf("wrong token err = %v", err)
	}
	// A second installation of the same target is active beside the first.
	second, err := s.CreateTarget(ctx, Target{Name: "jira", TokenHash: HashToken("other")}, t0)
	if err != nil {
		t.Fatalf("second installation of jira: %v", err)
	}
	if got, err := s.TargetByTokenHash(ctx, HashToken("other")); err != nil || got.ID != second.ID {
		t.Errorf("second installation's token = %+v, %v", got, err)
	}
	if err := s.RevokeTarget(ctx, second.ID, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeTarget(ctx, tg.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TargetByTokenHash(ctx, h); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoked token still works: %v", err)
	}
	if err := s.RevokeTarget(ctx, tg.ID, t0); fmt.Sprint(err) != "store: target "+tg.ID+": not found" {
		t.Errorf("second revoke err = %v", err)
	}
	revoked, err := s.GetTarget(ctx, tg.ID)
	if err != nil || !revoked.RevokedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("GetTarget revoked = %+v, %v", revoked, err)
	}
	// A revoked target's token hash is never reused.
	if _, err := s.CreateTarget(ctx, Target{Name: "jira", TokenHash: HashToken("secret-token-2")}, t0); err != nil {
		t.Errorf("re-create after revoke: %v", err)
	}
	if _, err := s.CreateTarget(ctx, Target{Name: "other", TokenHash: h}, t0); !errors.Is(err, ErrDuplicate) {
		t.Errorf("reused token hash err = %v, want duplicate", err)
	}
	list, err := s.ListTargets(ctx)
	if err != nil || len(list) != 3 {
		t.Errorf("ListTargets = %d targets, %v; want 3", len(list), err)
	}
	if _, err := s.GetTarget(ctx, "tgt_nope"); fmt.Sprint(err) != "store: target tgt_nope: not found" {
		t.Errorf("GetTarget missing err = %v", err)
	}
	for _, tc := range []struct {
		tg      Target
		wantErr string
	}{
		{Target{TokenHash: h}, "store: target: empty name"},
		{Target{Name: "x"}, `store: target "x": zero token hash`},
	} {
		if _, err := s.CreateTarget(ctx, tc.tg, t0); fmt.Sprint(err) != tc.wantErr {
			t.Errorf("CreateTarget err = %v, want %q", err, tc.wantErr)
		}
	}
}

func testCallbackTokens(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	rev0, _ := s.Revision(ctx)
	if _, err := s.GetCallbackToken(ctx, "close_ticket"); fmt.Sprint(err) != "store: callback token close_ticket: not found" {
		t.Errorf("missing err = %v", err)
	}
	first, err := s.PutCallbackToken(ctx, CallbackToken{APIName: "close_ticket", Published: true, TokenHash: HashToken("t1")}, t0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetCallbackToken(ctx, "close_ticket")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, got); diff != "" {
		t.Errorf("GetCallbackToken (-want +got):\n%s", diff)
	}
	// Republish: a new token replaces the old.
	if _, err := s.PutCallbackToken(ctx, CallbackToken{APIName: "close_ticket", Published: false, TokenHash: HashToken("t2")}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutCallbackToken(ctx, CallbackToken{APIName: "add_note", Published: true, TokenHash: HashToken("t3")}, t0); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListCallbackTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []CallbackToken{
		{APIName: "add_note", Published: true, TokenHash: HashToken("t3"), UpdatedAt: t0},
		{APIName: "close_ticket", Published: false, TokenHash: HashToken("t2"), UpdatedAt: t0.Add(time.Minute)},
	}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("ListCallbackTokens (-want +got):\n%s", diff)
	}
	if rev, _ := s.Revision(ctx); rev != rev0+3 {
		t.Errorf("revision = %d, want %d", rev, rev0+3)
	}
	if _, err := s.PutCallbackToken(ctx, CallbackToken{}, t0); fmt.Sprint(err) != "store: callback token: empty API name" {
		t.Errorf("empty name err = %v", err)
	}

	// AddCallbackToken never replaces: of nodes racing to publish, one wins.
	if added, err := s.AddCallbackToken(ctx, CallbackToken{APIName: "close_ticket", Published: true, TokenHash: HashToken("t4")}, t0); err != nil || added {
		t.Errorf("AddCallbackToken over an existing state = %v, %v; want false", added, err)
	}
	if got, _ := s.GetCallbackToken(ctx, "close_ticket"); got.TokenHash != HashToken("t2") {
		t.Error("AddCallbackToken replaced an existing token")
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			added, err := s.AddCallbackToken(ctx, CallbackToken{APIName: "race", Published: true, TokenHash: HashToken(fmt.Sprint("r", i))}, t0)
			if err != nil {
				t.Error(err)
			}
			if added {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d concurrent AddCallbackToken calls won, want exactly 1", wins.Load())
	}
}

// testConcurrentEnqueue: many goroutines enqueue at once (group commit); every job
// lands, and a bad batch fails alone.
func testConcurrentEnqueue(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	mustEnqueue(t, s, callout("dlv_taken"))
	before := s.committer.commits.Load()
	const workers, per = 16, 25
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				jobs := []Job{callout(fmt.Sprintf("dlv_w%02d_%02d", w, i))}
				if w == 0 && i == 10 {
					jobs = append(jobs, callout("dlv_taken"))
				}
				if err := s.Enqueue(ctx, jobs); err != nil && errs[w] == nil {
					errs[w] = err
				}
			}
		})
	}
	wg.Wait()
	if got, want := fmt.Sprint(errs[0]), "store: job dlv_taken: duplicate ID"; got != want {
		t.Errorf("worker 0 err = %q, want %q", got, want)
	}
	for w := 1; w < workers; w++ {
		if errs[w] != nil {
			t.Errorf("worker %d err = %v, want nil (a neighbour's bad batch must not fail it)", w, errs[w])
		}
	}
	// Group commit: 400 concurrent calls need far fewer transactions (the one bad
	// call costs one extra, retried alone with its batch).
	if commits := s.committer.commits.Load() - before; commits >= workers*per {
		t.Errorf("%d Enqueue calls took %d transactions: no group commit", workers*per, commits)
	} else {
		t.Logf("%d concurrent Enqueue calls committed in %d transactions", workers*per, commits)
	}
	st, err := s.Stats(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(workers*per - 1 + 1); st.Pending != want {
		t.Errorf("pending = %d, want %d", st.Pending, want)
	}
}

func testClosed(t *testing.T, open opener) {
	s, _ := open(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	ctx := context.Background()
	checks := map[string]error{
		"Enqueue": s.Enqueue(ctx, []Job{callout("dlv_late")}),
		"Ping":    s.Ping(ctx),
		"Retry":   s.Retry(ctx, "x", t0),
	}
	_, checks["Claim"] = s.Claim(ctx, "w", 1, time.Second, t0)
	_, _, checks["Get"] = s.Get(ctx, "x")
	_, checks["List"] = s.List(ctx, Filter{})
	_, checks["Stats"] = s.Stats(ctx, t0)
	_, checks["Complete"] = s.Settle(ctx, "w", []Outcome{{ID: "x", Status: StatusDelivered, Attempt: attempt(t0, 200, "")}})
	_, checks["Revision"] = s.Revision(ctx)
	names := make([]string, 0, len(checks))
	for n := range checks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !errors.Is(checks[n], ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", n, checks[n])
		}
	}
}

// claimAllConcurrently has every store in handles claim (limit per claim) from a
// shared outbox until it is empty, settling each job, and checks that every one of
// want was claimed exactly once.
func claimAllConcurrently(t *testing.T, handles []*Store, goroutinesPerHandle, limit int, want []string) {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	seen := map[string]string{}
	var dups []string
	var wg sync.WaitGroup
	errc := make(chan error, len(handles)*goroutinesPerHandle)
	for h, s := range handles {
		for g := range goroutinesPerHandle {
			owner := fmt.Sprintf("node%d-g%d", h, g)
			wg.Go(func() {
				idle := 0
				for idle < 3 {
					jobs, err := s.Claim(ctx, owner, limit, time.Hour, t0.Add(time.Minute))
					if err != nil {
						errc <- fmt.Errorf("%s: claim: %w", owner, err)
						return
					}
					if len(jobs) == 0 {
						idle++
						time.Sleep(time.Millisecond)
						continue
					}
					idle = 0
					outs := make([]Outcome, len(jobs))
					mu.Lock()
					for i, j := range jobs {
						if prev, ok := seen[j.ID]; ok {
							dups = append(dups, fmt.Sprintf("%s by %s and %s", j.ID, prev, owner))
						}
						seen[j.ID] = owner
						outs[i] = Outcome{ID: j.ID, Status: StatusDelivered, Attempt: attempt(t0, 200, "")}
					}
					mu.Unlock()
					res, err := s.Settle(ctx, owner, outs)
					if err != nil {
						errc <- fmt.Errorf("%s: settle: %w", owner, err)
						return
					}
					for _, e := range res {
						if e != nil {
							errc <- fmt.Errorf("%s: settle: %w", owner, e)
							return
						}
					}
				}
			})
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if len(dups) > 0 {
		t.Errorf("%d jobs claimed twice, e.g. %s", len(dups), dups[0])
	}
	var missing []string
	for _, id := range want {
		if _, ok := seen[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 || len(seen) != len(want) {
		t.Errorf("claimed %d distinct jobs of %d; missing %d (e.g. %v)", len(seen), len(want), len(missing), missing[:min(3, len(missing))])
	}
	st, err := handles[0].Stats(ctx, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if st.Delivered != int64(len(want)) || st.Pending != 0 {
		t.Errorf("after draining Stats = %+v, want %d delivered, 0 pending", st, len(want))
	}
}

// enqueueN enqueues n callout jobs due at t0 in batches and returns their IDs.
func enqueueN(t testing.TB, s *Store, n int) []string {
	t.Helper()
	var all []string
	for len(all) < n {
		batch := make([]Job, min(500, n-len(all)))
		for i := range batch {
			batch[i] = Job{Kind: KindCallout, MaxAttempts: 10, NextAt: t0, Payload: []byte(`{"id":8176}`)}
		}
		if err := s.Enqueue(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
		all = append(all, ids(batch)...)
	}
	return all
}
