package store

import (
	"context"
	"strings"
	"testing"
	"time"
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

// TestPostgresSettleScansNoTable: a Settle's statements, run as settleChunk sends
// them and planned generically (plan_cache_mode = force_generic_plan on every
// connection, as PostgreSQL may choose after five runs of a prepared statement),
// read the young jobs table by index only: pg_stat_xact_user_tables counts no
// sequential scan of jobs in the settle's transaction.
func TestPostgresSettleScansNoTable(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, postgresDSN(t)+"&plan_cache_mode=force_generic_plan")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.callerLeaseClock = true // claim on the suite's fixed clock
	enqueueN(t, s, 3)
	const owner = "plan-test"
	jobs, err := s.Claim(ctx, owner, 3, time.Minute, t0)
	if err != nil || len(jobs) != 3 {
		t.Fatalf("Claim: %d jobs, %v", len(jobs), err)
	}
	outs := make([]Outcome, len(jobs))
	for i, j := range jobs {
		outs[i] = Outcome{ID: j.ID, Status: StatusDelivered,
			Attempt: Attempt{StartedAt: t0, Duration: time.Millisecond, StatusCode: 200}}
	}
	tx, err := s.db.begin(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.rollback(ctx)
	seqScans := func() int64 {
		t.Helper()
		r, err := tx.query(ctx, "SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relid = CAST('jobs' AS regclass)")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var n int64
		if r.Next() {
			if err := r.Scan(&n); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := seqScans()
	results, err := s.settleChunk(ctx, tx, owner, outs)
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range results {
		if err != nil {
			t.Errorf("outcome %d: %v", i, err)
		}
	}
	if n := seqScans() - before; n != 0 {
		t.Errorf("the settle scanned the jobs table %d times; want every job found by index", n)
	}
}
