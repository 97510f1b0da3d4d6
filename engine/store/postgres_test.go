package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

const postgresEnv = "RULEFLOW_TEST_POSTGRES"

// postgresDSN returns a DSN for a fresh schema of its own on the test database
// (search_path set in the DSN), dropped when the test ends. It skips the test when
// RULEFLOW_TEST_POSTGRES is unset.
func postgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(postgresEnv)
	if base == "" {
		t.Skip(postgresEnv + " is not set: skipping the PostgreSQL tests (set it to e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "rf_store_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", redactDSN(base), err)
	}
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close(ctx)
		t.Fatal(err)
	}
	admin.Close(ctx)
	t.Cleanup(func() {
		ctx := context.Background()
		admin, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

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
