package storetest

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestSQLiteDSN(t *testing.T) {
	dsn := SQLiteDSN(t)
	path, ok := strings.CutPrefix(dsn, "sqlite:")
	if !ok || filepath.Base(path) != "outbox.db" {
		t.Fatalf("SQLiteDSN = %q, want sqlite:<temp dir>/outbox.db", dsn)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		t.Errorf("the directory of %q does not exist: %v", dsn, err)
	}
}

// PostgresDSN's schema is the DSN's search_path while the test runs and is gone
// after it.
func TestPostgresDSN(t *testing.T) {
	var schema string
	t.Run("inner", func(t *testing.T) {
		dsn := PostgresDSN(t, "storetest_")
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		schema = u.Query().Get("search_path")
		if !strings.HasPrefix(schema, "storetest_") || len(schema) != len("storetest_")+12 {
			t.Fatalf("search_path = %q", schema)
		}
		var current string
		if err := queryString(dsn, "SELECT current_schema()", &current); err != nil || current != schema {
			t.Errorf("current_schema() = %q, %v; want %q", current, err, schema)
		}
	})
	if schema == "" {
		return // skipped: no PostgreSQL
	}
	var n string
	err := queryString(os.Getenv(PostgresEnv), "SELECT count(*)::text FROM information_schema.schemata WHERE schema_name = '"+schema+"'", &n)
	if err != nil || n != "0" {
		t.Errorf("schema %s still exists after its test (count %s, %v)", schema, n, err)
	}
}

func queryString(dsn, sql string, dest *string) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.QueryRow(ctx, sql).Scan(dest)
}
