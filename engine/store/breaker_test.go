package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestBreakersSQLite(t *testing.T)   { runBreakerSuite(t, openSQLiteT) }
func TestBreakersPostgres(t *testing.T) { runBreakerSuite(t, openPostgresT) }

func runBreakerSuite(t *testing.T, open opener) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, open opener)
	}{
		{"OpenProbeClose", testBreakerOpenProbeClose},
		{"SuccessResets", testBreakerSuccessResets},
		{"LostLeaseIgnored", testBreakerLostLease},
		{"SharedByHandles", testBreakerShared},
		{"Postpone", testPostpone},
		{"Permits", testPermits},
		{"PermitsShared", testPermitsShared},
		{"EarlierPending", testEarlierPending},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

const ep = "http://127.0.0.1:9"

func report(failed, probe bool) *BreakerReport {
	return &BreakerReport{
		Endpoint: ep, Callout: "VSA close alert", Failed: failed, Probe: probe, Threshold: 3,
		Cooldown: 10 * time.Second, MaxCooldown: 35 * time.Second,
		Notify: func(tr BreakerTransition) []Job {
			if tr.From == BreakerHalfOpen && tr.Breaker.State == BreakerOpen {
				return nil // a failed probe: no second open e-mail
			}
			return []Job{{Kind: KindEmail, Callout: tr.Breaker.Callout, Payload: []byte(string(tr.From) + ">" + string(tr.Breaker.State)), MaxAttempts: 1}}
		},
	}
}

// settleWith claims one fresh job and settles it with report r at time at.
func settleWith(t *testing.T, s *Store, owner string, r *BreakerReport, at time.Time) {
	t.Helper()
	j := mustEnqueue(t, s, Job{Kind: KindCallout, Callout: "VSA close alert", Payload: []byte("x"), MaxAttempts: 5, NextAt: t0})[0]
	if _, err := s.Claim(context.Background(), owner, 1000, time.Minute, at); err != nil {
		t.Fatal(err)
	}
	st := StatusDelivered
	if r.Failed {
		st = StatusFailed
	}
	res, err := s.Settle(context.Background(), owner, []Outcome{{ID: j.ID, Status: st, Attempt: Attempt{StartedAt: at}, Breaker: r}})
	if err != nil || res[0] != nil {
		t.Fatalf("Settle: %v %v", err, res)
	}
}

func breakerOf(t *testing.T, s *Store) Breaker {
	t.Helper()
	bs, err := s.Breakers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.Endpoint == ep {
			return b
		}
	}
	return Breaker{Endpoint: ep, State: BreakerClosed}
}

// mails returns the payloads of the e-mail jobs, in order.
func mails(t *testing.T, s *Store) []string {
	t.Helper()
	jobs, err := s.List(context.Background(), Filter{Kind: KindEmail})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, j := range jobs {
		out = append(out, string(j.Payload))
	}
	return out
}

func testBreakerOpenProbeClose(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	at := t0
	for range 2 {
		settleWith(t, s, "n1", report(true, false), at)
	}
	if b := breakerOf(t, s); b.State != BreakerClosed || b.Failures != 2 {
		t.Fatalf("after 2 failures: %+v", b)
	}
	settleWith(t, s, "n1", report(true, false), at)
	b := breakerOf(t, s)
	if b.State != BreakerOpen || b.Failures != 3 || b.Cooldown != 10*time.Second || !b.OpenUntil.Equal(at.Add(10*time.Second)) || !b.OpenedAt.Equal(at) {
		t.Fatalf("after 3 failures: %+v", b)
	}
	if got := mails(t, s); fmt.Sprint(got) != "[closed>open]" {
		t.Fatalf("mails = %v", got)
	}
	// A straggler's failure while open counts but changes nothing else.
	settleWith(t, s, "n1", report(true, false), at.Add(time.Second))
	if b := breakerOf(t, s); b.State != BreakerOpen || b.Failures != 4 || !b.OpenUntil.Equal(at.Add(10*time.Second)) {
		t.Fatalf("straggler: %+v", b)
	}
	// No probe before the cool-down ends; one probe after, and only one.
	if _, ok, err := s.AcquireProbe(ctx, ep, "n1", time.Minute, at.Add(9*time.Second)); err != nil || ok {
		t.Fatalf("early probe: %v %v", ok, err)
	}
	at = at.Add(10 * time.Second)
	if b, ok, err := s.AcquireProbe(ctx, ep, "n1", time.Minute, at); err != nil || !ok || b.State != BreakerHalfOpen || b.ProbeOwner != "n1" {
		t.Fatalf("probe: %+v %v %v", b, ok, err)
	}
	if _, ok, err := s.AcquireProbe(ctx, ep, "n2", time.Minute, at); err != nil || ok {
		t.Fatalf("second probe: %v %v", ok, err)
	}
	// The probe fails: re-opened, cool-down doubled (20s), no second open mail.
	settleWith(t, s, "n1", report(true, true), at)
	if b := breakerOf(t, s); b.State != BreakerOpen || b.Cooldown != 20*time.Second || !b.OpenUntil.Equal(at.Add(20*time.Second)) {
		t.Fatalf("probe failed: %+v", b)
	}
	at = at.Add(20 * time.Second)
	// The probe holder dies: after its probe lease another node takes over.
	if _, ok, _ := s.AcquireProbe(ctx, ep, "n1", time.Second, at); !ok {
		t.Fatal("probe 2 not acquired")
	}
	if _, ok, _ := s.AcquireProbe(ctx, ep, "n2", time.Minute, at.Add(500*time.Millisecond)); ok {
		t.Fatal("probe taken over before its lease ended")
	}
	if _, ok, _ := s.AcquireProbe(ctx, ep, "n2", time.Minute, at.Add(time.Second)); !ok {
		t.Fatal("expired probe not taken over")
	}
	settleWith(t, s, "n2", report(true, true), at.Add(time.Second))
	if b := breakerOf(t, s); b.Cooldown != 35*time.Second { // 40s capped at 35s
		t.Fatalf("cool-down cap: %+v", b)
	}
	at = at.Add(time.Minute)
	if _, ok, _ := s.AcquireProbe(ctx, ep, "n2", time.Minute, at); !ok {
		t.Fatal("probe 3 not acquired")
	}
	settleWith(t, s, "n2", report(false, true), at)
	if b := breakerOf(t, s); b.State != BreakerClosed || b.Failures != 0 || b.Cooldown != 0 || !b.OpenUntil.IsZero() {
		t.Fatalf("closed: %+v", b)
	}
	if got := mails(t, s); fmt.Sprint(got) != "[closed>open half_open>closed]" {
		t.Fatalf("mails = %v", got)
	}
}

func testBreakerSuccessResets(t *testing.T, open opener) {
	s, _ := open(t)
	for range 2 {
		settleWith(t, s, "n1", report(true, false), t0)
	}
	settleWith(t, s, "n1", report(false, false), t0)
	for range 2 {
		settleWith(t, s, "n1", report(true, false), t0)
	}
	if b := breakerOf(t, s); b.State != BreakerClosed || b.Failures != 2 {
		t.Fatalf("not consecutive: %+v", b)
	}
	if got := mails(t, s); len(got) != 0 {
		t.Fatalf("mails = %v", got)
	}
	// Several outcomes of one endpoint in one Settle apply in order.
	var outs []Outcome
	for i := range 4 {
		j := mustEnqueue(t, s, Job{Kind: KindCallout, Payload: []byte("x"), MaxAttempts: 5, NextAt: t0})[0]
		mustClaim(t, s, "n1", 10, t0)
		outs = append(outs, Outcome{ID: j.ID, Status: StatusFailed, Attempt: Attempt{StartedAt: t0.Add(time.Duration(i) * time.Millisecond)}, Breaker: report(true, false)})
	}
	if _, err := s.Settle(context.Background(), "n1", outs); err != nil {
		t.Fatal(err)
	}
	if b := breakerOf(t, s); b.State != BreakerOpen || b.Failures != 6 || !b.OpenedAt.Equal(t0) {
		t.Fatalf("batch: %+v", b)
	}
	if got := mails(t, s); len(got) != 1 {
		t.Fatalf("mails = %v", got)
	}
}

func testBreakerLostLease(t *testing.T, open opener) {
	s, _ := open(t)
	j := mustEnqueue(t, s, Job{Kind: KindCallout, Payload: []byte("x"), MaxAttempts: 5, NextAt: t0})[0]
	mustClaim(t, s, "n1", 1, t0)
	outs := []Outcome{{ID: j.ID, Status: StatusFailed, Attempt: Attempt{StartedAt: t0}, Breaker: report(true, false)}}
	res, err := s.Settle(context.Background(), "someone-else", outs)
	if err != nil || !errors.Is(res[0], ErrLeaseLost) {
		t.Fatalf("Settle: %v %v", err, res)
	}
	if b := breakerOf(t, s); b.Failures != 0 {
		t.Fatalf("an unrecorded outcome counted: %+v", b)
	}
}

// testBreakerShared: two handles (two nodes) settle failures of one endpoint at
// once; every failure counts and the breaker opens once, with one e-mail.
func testBreakerShared(t *testing.T, open opener) {
	s1, reopen := open(t)
	s2 := reopen()
	const n = 40
	var jobs []Job
	for range n {
		jobs = append(jobs, Job{Kind: KindCallout, Payload: []byte("x"), MaxAttempts: 5, NextAt: t0})
	}
	mustEnqueue(t, s1, jobs...)
	var wg sync.WaitGroup
	var mu sync.Mutex
	settled := 0
	for i, s := range []*Store{s1, s2} {
		owner := fmt.Sprintf("n%d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := s.Claim(context.Background(), owner, 1, time.Minute, t0)
				if err != nil || len(got) == 0 {
					if err != nil {
						t.Error(err)
					}
					return
				}
				out := Outcome{ID: got[0].ID, Status: StatusFailed, Attempt: Attempt{StartedAt: t0}, Breaker: report(true, false)}
				if got[0].Kind == KindEmail { // the open e-mail
					out = Outcome{ID: got[0].ID, Status: StatusDelivered, Attempt: Attempt{StartedAt: t0}}
				}
				res, err := s.Settle(context.Background(), owner, []Outcome{out})
				if err != nil || res[0] != nil {
					t.Errorf("Settle: %v %v", err, res)
					return
				}
				mu.Lock()
				settled += 1 - boolInt(got[0].Kind == KindEmail)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if b := breakerOf(t, s1); settled != n || b.State != BreakerOpen || b.Failures != n {
		t.Fatalf("shared: %d settled, %+v", settled, b)
	}
	if got := mails(t, s1); len(got) != 1 {
		t.Fatalf("mails = %v", got)
	}
}

func testPostpone(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	j := mustEnqueue(t, s, Job{Kind: KindCallout, Payload: []byte("x"), MaxAttempts: 5, NextAt: t0})[0]
	mustClaim(t, s, "n1", 1, t0)
	later := t0.Add(30 * time.Second)
	res, err := s.Postpone(ctx, "n1", []Postponement{{ID: j.ID, NextAt: later}, {ID: "missing", NextAt: later}})
	if err != nil || res[0] != nil || !errors.Is(res[1], ErrNotFound) {
		t.Fatalf("Postpone: %v %v", err, res)
	}
	got, atts, err := s.Get(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Attempts != 0 || len(atts) != 0 || got.LeaseOwner != "" || !got.NextAt.Equal(later) || got.Status != StatusPending {
		t.Fatalf("postponed: %+v, %d attempts", got, len(atts))
	}
	if jobs := mustClaim(t, s, "n2", 1, later.Add(-time.Second)); len(jobs) != 0 {
		t.Fatal("claimed before its new due time")
	}
	if jobs := mustClaim(t, s, "n2", 1, later); len(jobs) != 1 {
		t.Fatal("not claimable at its new due time")
	}
	if res, _ := s.Postpone(ctx, "n1", []Postponement{{ID: j.ID, NextAt: later}}); !errors.Is(res[0], ErrLeaseLost) {
		t.Fatalf("postpone of a job held by another: %v", res)
	}
}

func testPermits(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	now := t0.Add(200 * time.Millisecond)
	take := func(want int, at time.Time) (int, time.Time) {
		t.Helper()
		n, end, err := s.TakePermits(ctx, "c", 5, time.Second, want, at)
		if err != nil {
			t.Fatal(err)
		}
		return n, end
	}
	if n, end := take(3, now); n != 3 || !end.Equal(t0.Add(time.Second)) {
		t.Fatalf("first: %d %v", n, end)
	}
	if n, _ := take(3, now); n != 2 {
		t.Fatalf("second: %d", n)
	}
	if n, end := take(1, now.Add(700*time.Millisecond)); n != 0 || !end.Equal(t0.Add(time.Second)) {
		t.Fatalf("used up: %d %v", n, end)
	}
	if n, end := take(9, t0.Add(time.Second)); n != 5 || !end.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("next window: %d %v", n, end)
	}
	// A node whose clock is behind takes nothing from the later window.
	if n, end := take(1, now); n != 0 || !end.Equal(t0.Add(time.Second)) {
		t.Fatalf("behind: %d %v", n, end)
	}
	if _, _, err := s.TakePermits(ctx, "c", 0, time.Second, 1, now); err == nil {
		t.Fatal("limit 0 accepted")
	}
}

// testPermitsShared: two handles take permits of one window at once; together
// they get exactly the limit.
func testPermitsShared(t *testing.T, open opener) {
	s1, reopen := open(t)
	s2 := reopen()
	var mu sync.Mutex
	total := 0
	var wg sync.WaitGroup
	for _, s := range []*Store{s1, s2, s1, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				n, _, err := s.TakePermits(context.Background(), "shared", 50, time.Minute, 2, t0)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if total != 50 {
		t.Fatalf("took %d permits, want 50", total)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// testEarlierPending: a delivery has an earlier one while a smaller ID of the same
// callout and record is pending (leased or not), and none once it is settled;
// other records, callouts and kinds do not count.
func testEarlierPending(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	mk := func(callout, entry string, kind Kind) Job {
		return Job{Kind: kind, Callout: callout, Form: "Ticket", EntryID: entry, Payload: []byte("x"), MaxAttempts: 3, NextAt: t0}
	}
	jobs := mustEnqueue(t, s, mk("other", "7", KindCallout), mk("RMM", "8", KindCallout), mk("RMM", "7", KindEmail),
		mk("RMM", "7", KindCallout), mk("RMM", "7", KindCallout))
	first, second := jobs[3], jobs[4]
	check := func(j Job, want bool) {
		t.Helper()
		_, got, err := s.EarlierPending(ctx, j)
		if err != nil || got != want {
			t.Fatalf("EarlierPending(%s) = %v, %v; want %v", j.ID, got, err, want)
		}
	}
	check(first, false)
	check(second, true)
	claimed := mustClaim(t, s, "n1", 10, t0) // leased: still pending
	check(second, true)
	var outs []Outcome
	for _, j := range claimed {
		if j.ID == first.ID {
			outs = append(outs, Outcome{ID: j.ID, Status: StatusFailed, Attempt: Attempt{StartedAt: t0}})
		}
	}
	if res, err := s.Settle(ctx, "n1", outs); err != nil || res[0] != nil {
		t.Fatalf("Settle: %v %v", err, res)
	}
	check(second, false)
}
