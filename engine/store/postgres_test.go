package store

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"

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
