// Package storetest gives tests real stores to run against: a SQLite file in the
// test's temporary directory, or a schema of its own on the PostgreSQL database
// named by RULEFLOW_TEST_POSTGRES, dropped when the test ends. Tests that need
// PostgreSQL skip, saying why, when the variable is unset.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
)

// PostgresEnv names the environment variable holding the test database's DSN, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const PostgresEnv = "RULEFLOW_TEST_POSTGRES"

// SQLiteDSN returns the DSN of a new SQLite store in the test's temporary directory.
func SQLiteDSN(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "outbox.db")
}

// PostgresDSN returns a DSN of the test database whose search_path is a new schema,
// named prefix plus random hex, that is dropped when the test ends; several stores
// opened on it share that schema and nothing else. It skips the test when
// RULEFLOW_TEST_POSTGRES is unset.
func PostgresDSN(t testing.TB, prefix string) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skip(PostgresEnv + " is not set: skipping this PostgreSQL test (set it to e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := prefix + hex.EncodeToString(b[:])
	if err := exec(base, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if err := exec(base, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// exec runs one statement on its own connection to dsn.
func exec(dsn, sql string) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}
