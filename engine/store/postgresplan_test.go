package store

import (
	"context"
	"strings"
	"testing"
)

// TestPostgresSettlePlan: the settle's generic plan — the one PostgreSQL keeps for
// a statement pgx has prepared — finds jobs by primary key even on a young,
// never-analyzed jobs table, where without the settle's SET it scans the table.
func TestPostgresSettlePlan(t *testing.T) {
	s, _ := openPostgresT(t)
	pool := s.db.(*pgBackend).pool
	ctx := context.Background()
	plan := func(t *testing.T, noSeqScan bool) string {
		t.Helper()
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		setup := []string{"SET LOCAL plan_cache_mode = force_generic_plan",
			"PREPARE settle_plan AS " + dollarPlaceholders(pgSettleQuery)}
		if noSeqScan {
			setup = append(setup, "SET LOCAL enable_seqscan = off")
		}
		for _, q := range setup {
			if _, err := tx.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		rows, err := tx.Query(ctx, `EXPLAIN EXECUTE settle_plan('{j1}', '{delivered}', '{NULL}', '{200}', '{""}',
	'{2026-01-01T00:00:00Z}', '{2026-01-01T00:00:01Z}', '{1000}', '{""}', 'owner', 'owner')`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "DEALLOCATE settle_plan"); err != nil {
			t.Fatal(err)
		}
		return strings.Join(lines, "\n")
	}
	without := plan(t, false)
	if !strings.Contains(without, "Seq Scan on jobs") {
		t.Logf("without the SET the generic plan no longer scans jobs (planner changed?):\n%s", without)
	}
	got := plan(t, true)
	if strings.Contains(got, "Seq Scan on jobs") || !strings.Contains(got, "jobs_pkey") {
		t.Errorf("settle's generic plan with enable_seqscan off:\n%s\nwant jobs found by jobs_pkey, no Seq Scan on jobs", got)
	}
	t.Logf("generic plan without the SET:\n%s\nwith it:\n%s", without, got)
}
