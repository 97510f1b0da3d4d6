package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRegistrations runs the registration behaviour on both backends.
func TestRegistrations(t *testing.T) {
	for _, b := range []struct {
		name string
		open opener
	}{{"SQLite", openSQLiteT}, {"Postgres", openPostgresT}} {
		t.Run(b.name, func(t *testing.T) {
			t.Run("CreateAndSettle", func(t *testing.T) { testRegistrationCreateAndSettle(t, b.open) })
			t.Run("RevokeWhilePending", func(t *testing.T) { testRevokeWhilePending(t, b.open) })
			t.Run("RevokeFailed", func(t *testing.T) { testRevokeFailed(t, b.open) })
			t.Run("Atomic", func(t *testing.T) { testRegistrationAtomic(t, b.open) })
		})
	}
}

func registerJob() *Job {
	return &Job{Callout: "target:jira", Form: "jira", Payload: []byte(`{"target":"jira"}`), MaxAttempts: 3}
}

func newInstallation(t *testing.T, s *Store, token string, register *Job) (Target, Registration) {
	t.Helper()
	tg, reg, err := s.CreateRegisteredTarget(context.Background(), Target{Name: "jira", TokenHash: HashToken(token), IParams: []byte(`{}`)},
		Registration{TargetURL: []byte("sealed")}, register, t0)
	if err != nil {
		t.Fatal(err)
	}
	return tg, reg
}

// settleRegister claims the register job and settles it with u.
func settleRegister(t *testing.T, s *Store, jobID string, status Status, u RegistrationUpdate) {
	t.Helper()
	ctx := context.Background()
	jobs, err := s.Claim(ctx, "w", 10, time.Minute, t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, j := range jobs {
		found = found || j.ID == jobID
	}
	if !found {
		t.Fatalf("register job %s not claimable (claimed %d)", jobID, len(jobs))
	}
	res, err := s.Settle(ctx, "w", []Outcome{{ID: jobID, Status: status, Attempt: Attempt{StartedAt: t0.Add(time.Second)}, Registration: &u}})
	if err != nil || res[0] != nil {
		t.Fatalf("settle: %v %v", err, res)
	}
}

func testRegistrationCreateAndSettle(t *testing.T, open opener) {
	s, reopen := open(t)
	ctx := context.Background()
	tg, reg := newInstallation(t, s, "tok-1", registerJob())
	if reg.Status != RegistrationPending || reg.RegisterJob == "" || reg.TargetID != tg.ID {
		t.Fatalf("created registration %+v", reg)
	}
	job, _, err := s.Get(ctx, reg.RegisterJob)
	if err != nil || !IsTargetCall(job) || job.EventKind != EventRegister || job.EntryID != tg.ID || job.Kind != KindCallout {
		t.Fatalf("register job %+v, %v", job, err)
	}
	settleRegister(t, s, reg.RegisterJob, StatusDelivered, RegistrationUpdate{TargetID: tg.ID, Status: RegistrationRegistered, RegistrationID: "wh-9", At: t0})
	s.Close()
	s = reopen()
	got, err := s.GetRegistration(ctx, tg.ID)
	if err != nil || got.Status != RegistrationRegistered || got.RegistrationID != "wh-9" || string(got.TargetURL) != "sealed" {
		t.Fatalf("after settle: %+v %v", got, err)
	}
	// Revoked: the deregister job is due at once.
	got, found, err := s.RevokeRegisteredTarget(ctx, tg.ID, &Job{Callout: "target:jira", Form: "jira", MaxAttempts: 2}, time.Hour, t0.Add(time.Minute))
	if err != nil || !found || got.DeregisterStatus != DeregistrationPending {
		t.Fatalf("revoke: %+v %v %v", got, found, err)
	}
	d, _, err := s.Get(ctx, got.DeregisterJob)
	if err != nil || d.EventKind != EventDeregister || !d.NextAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("deregister job %+v %v", d, err)
	}
	if _, err := s.TargetByTokenHash(ctx, HashToken("tok-1")); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoked token still works: %v", err)
	}
	if _, _, err := s.RevokeRegisteredTarget(ctx, tg.ID, nil, time.Hour, t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("second revoke: %v", err)
	}
	// Registration jobs are not callouts that check --store would miss.
	pending, err := s.PendingByCallout(ctx)
	if err != nil || len(pending) != 0 {
		t.Errorf("PendingByCallout = %v, %v", pending, err)
	}
	all, err := s.ListRegistrations(ctx)
	if err != nil || len(all) != 1 || all[tg.ID].DeregisterJob != d.ID {
		t.Errorf("ListRegistrations = %+v, %v", all, err)
	}
}

func testRevokeWhilePending(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	tg, reg := newInstallation(t, s, "tok-2", registerJob())
	got, _, err := s.RevokeRegisteredTarget(ctx, tg.ID, &Job{Callout: "target:jira", Form: "jira", MaxAttempts: 2}, 30*24*time.Hour, t0)
	if err != nil || got.DeregisterStatus != DeregistrationPending {
		t.Fatalf("revoke: %+v %v", got, err)
	}
	d, _, _ := s.Get(ctx, got.DeregisterJob)
	if !d.NextAt.Equal(t0.Add(30 * 24 * time.Hour)) {
		t.Fatalf("deregister job waiting for the registration is due at %s", d.NextAt)
	}
	// The register call's outcome makes the waiting deregister call due.
	settleRegister(t, s, reg.RegisterJob, StatusDelivered, RegistrationUpdate{TargetID: tg.ID, Status: RegistrationRegistered, RegistrationID: "wh-1", At: t0.Add(2 * time.Second)})
	d, _, _ = s.Get(ctx, got.DeregisterJob)
	if !d.NextAt.Equal(t0.Add(2 * time.Second)) {
		t.Errorf("deregister job after the registration: due at %s", d.NextAt)
	}
}

func testRevokeFailed(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	tg, reg := newInstallation(t, s, "tok-3", registerJob())
	settleRegister(t, s, reg.RegisterJob, StatusFailed, RegistrationUpdate{TargetID: tg.ID, Status: RegistrationFailed, Error: "HTTP 500", At: t0})
	got, found, err := s.RevokeRegisteredTarget(ctx, tg.ID, &Job{Callout: "target:jira", Form: "jira", MaxAttempts: 2}, time.Hour, t0)
	if err != nil || !found || got.DeregisterStatus != DeregistrationSkipped || got.DeregisterError != SkippedDeregistration || got.DeregisterJob != "" {
		t.Fatalf("revoke of a failed registration: %+v %v", got, err)
	}
	if jobs, _ := s.List(ctx, Filter{EntryID: tg.ID}); len(jobs) != 1 {
		t.Errorf("jobs: %d, want only the register call", len(jobs))
	}
	// An installation without a registration is revoked all the same.
	plain, err := s.CreateTarget(ctx, Target{Name: "jira", TokenHash: HashToken("tok-4")}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, found, err := s.RevokeRegisteredTarget(ctx, plain.ID, &Job{Callout: "target:jira", MaxAttempts: 1}, time.Hour, t0); err != nil || found {
		t.Errorf("revoke without registration: found %v, %v", found, err)
	}
	if jobs, _ := s.List(ctx, Filter{EntryID: plain.ID}); len(jobs) != 0 {
		t.Errorf("a deregister call for an installation that never registered: %d jobs", len(jobs))
	}
}

// testRegistrationAtomic: a register job that cannot be stored leaves no target.
func testRegistrationAtomic(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	if err := s.Enqueue(ctx, []Job{{ID: "dlv_taken", Kind: KindEmail, MaxAttempts: 1}}); err != nil {
		t.Fatal(err)
	}
	j := registerJob()
	j.ID = "dlv_taken"
	_, _, err := s.CreateRegisteredTarget(ctx, Target{Name: "jira", TokenHash: HashToken("tok-5")}, Registration{}, j, t0)
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("CreateRegisteredTarget with a taken job ID: %v", err)
	}
	if list, _ := s.ListTargets(ctx); len(list) != 0 {
		t.Errorf("the target was stored without its register job: %+v", list)
	}
	if regs, _ := s.ListRegistrations(ctx); len(regs) != 0 {
		t.Errorf("the registration was stored without its register job: %+v", regs)
	}
}
