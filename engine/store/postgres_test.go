package store

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store/storetest"
)

const postgresEnv = storetest.PostgresEnv

// postgresDSN is a fresh PostgreSQL schema of the test's own (see storetest).
func postgresDSN(t testing.TB) string { return storetest.PostgresDSN(t, "rf_store_test_") }

func openPostgresT(t *testing.T) (*Store, func() *Store) {
	t.Helper()
	dsn := postgresDSN(t)
	open := func() *Store {
		s, err := Open(context.Background(), dsn)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		s.callerLeaseClock = true // the suite drives a fixed clock
		t.Cleanup(func() { s.Close() })
		return s
	}
	return open(), open
}

func TestPostgres(t *testing.T) {
	runStoreSuite(t, openPostgresT)
}

// TestPostgresConcurrentClaim: three store handles (three engines) on one database
// claim from 2,000 jobs at once; each job is claimed exactly once.
func TestPostgresConcurrentClaim(t *testing.T) {
	a, reopen := openPostgresT(t)
	b, c := reopen(), reopen()
	want := enqueueN(t, a, 2000)
	claimAllConcurrently(t, []*Store{a, b, c}, 2, 16, want)
}

// TestPostgresConcurrentOpen: nodes starting together migrate once, without errors.
func TestPostgresConcurrentOpen(t *testing.T) {
	dsn := postgresDSN(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := Open(context.Background(), dsn)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
}

// TestPostgresErrorsHidePassword: a failed connection names the server but never
// the password.
func TestPostgresErrorsHidePassword(t *testing.T) {
	base := os.Getenv(postgresEnv)
	if base == "" {
		t.Skip(postgresEnv + " is not set: skipping the PostgreSQL tests")
	}
	dsn := "postgres://ruleflow:s3cr3t-pw@127.0.0.1:1/nowhere?sslmode=disable&connect_timeout=1"
	s, err := Open(context.Background(), dsn)
	if err == nil {
		s.Close()
		t.Fatal("Open of a closed port succeeded")
	}
	if strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Errorf("error leaks the password: %v", err)
	}
	if want := "store: open postgres://ruleflow:xxxxx@127.0.0.1:1/nowhere?"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %q, want prefix %q", err, want)
	}
}

// TestPostgresLeaseOnDatabaseClock: leases run on the database's clock. A node
// whose clock is 55 s ahead cannot take over a one-minute lease another node took a
// moment ago, and one 55 s behind cannot keep a lease alive past its end.
func TestPostgresLeaseOnDatabaseClock(t *testing.T) {
	dsn := postgresDSN(t)
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	now := time.Now()
	job := callout("dlv_clock")
	job.NextAt = now.Add(-time.Minute)
	mustEnqueue(t, s, job)
	behind := now.Add(-55 * time.Second)
	got, err := s.Claim(ctx, "a", 1, time.Minute, behind)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim = %d jobs, %v", len(got), err)
	}
	if d := got[0].LeaseUntil.Sub(now); d < 50*time.Second || d > 70*time.Second {
		t.Errorf("lease until %v, %v after the test's now; want about a minute on the database clock", got[0].LeaseUntil, d)
	}
	if got, err := s.Claim(ctx, "b", 1, time.Minute, now.Add(55*time.Second)); err != nil || len(got) != 0 {
		t.Fatalf("node 55 s ahead claimed %d jobs (%v); want none, the lease is live", len(got), err)
	}
	// A lease shortened to a millisecond expires on the database clock, whatever
	// the clock of the node that looks.
	if err := s.Extend(ctx, "dlv_clock", "a", time.Millisecond, now); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	if got, err := s.Claim(ctx, "b", 1, time.Minute, behind.Add(time.Minute)); err != nil || len(got) != 1 {
		t.Fatalf("claim of the expired lease by a node 55 s behind = %d jobs, %v; want 1", len(got), err)
	}
	if next, ok, err := s.NextDue(ctx, behind); err != nil || !ok || next.Sub(behind) < 50*time.Second {
		t.Errorf("NextDue(%v) = %v, %v, %v; want the lease's end about a minute after the caller's now", behind, next, ok, err)
	}
}
