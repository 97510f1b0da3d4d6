package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ruleflow/ruleflow/qualification/goldentest"
)

// golden compares got with testdata/name, or rewrites the file under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	goldentest.Check(t, path, []byte(got))
}

// dumpSchema lists the schema the migrations produce, one object per paragraph.
func dumpSchema(t *testing.T, s *Store, query string) string {
	t.Helper()
	var b strings.Builder
	err := readTx(context.Background(), s.db, func(tx tx) error {
		r, err := tx.query(context.Background(), query)
		if err != nil {
			return err
		}
		defer r.Close()
		for r.Next() {
			var name, def string
			if err := r.Scan(&name, &def); err != nil {
				return err
			}
			fmt.Fprintf(&b, "-- %s\n%s\n\n", name, strings.TrimSpace(def))
		}
		return r.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestSchemaGolden pins the schema the embedded migrations create, so a migration
// edit shows up as a reviewed golden-file diff.
func TestSchemaGolden(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		s, _ := openSQLiteT(t)
		golden(t, "schema.sqlite.golden", dumpSchema(t, s,
			`SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type DESC, name`))
	})
	t.Run("postgres", func(t *testing.T) {
		s, _ := openPostgresT(t)
		golden(t, "schema.postgres.golden", dumpSchema(t, s, `
SELECT c.table_name || '.' || c.column_name,
       c.data_type || CASE WHEN c.is_nullable = 'NO' THEN ' NOT NULL' ELSE '' END ||
       COALESCE(' DEFAULT ' || c.column_default, '')
FROM information_schema.columns c
WHERE c.table_schema = current_schema()
UNION ALL
SELECT indexname, regexp_replace(indexdef, ' ON [a-z0-9_]+\.', ' ON ')
FROM pg_indexes WHERE schemaname = current_schema()
ORDER BY 1`))
	})
}
