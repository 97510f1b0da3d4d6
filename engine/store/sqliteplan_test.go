package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestSQLiteQueryPlans: the outbox queries that run on every claim, poll, metrics
// scrape or check read the index meant for them, not the whole jobs table. The
// due index is partial (010_pending_due.sql), so a query that forgets to say
// status = 'pending', or that SQLite plans around it, shows up here as a scan.
func TestSQLiteQueryPlans(t *testing.T) {
	s, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "plans.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := s.db.(*sqliteBackend).reader
	for _, tc := range []struct{ name, query, want string }{
		{"claim", `SELECT id FROM jobs WHERE status = 'pending' AND next_at <= 1 AND (lease_until IS NULL OR lease_until <= 1)
ORDER BY next_at, id LIMIT 5`, "SEARCH jobs USING INDEX jobs_pending_next_at (next_at<?)"},
		{"next due", `SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > next_at THEN lease_until ELSE next_at END)
FROM jobs WHERE status = 'pending'`, "jobs_pending_next_at"},
		{"stats open", `SELECT status, COUNT(*) FROM jobs WHERE status <> 'delivered' GROUP BY status
UNION ALL SELECT '', COUNT(*) FROM jobs`, "SCAN jobs USING COVERING INDEX jobs_open_id"},
		{"stats due", `SELECT SUM(CASE WHEN next_at <= 1 THEN 1 ELSE 0 END), MIN(created_at) FROM jobs WHERE status = 'pending'`, "jobs_pending_next_at"},
		{"pending by callout", `SELECT callout, COUNT(*) FROM jobs INDEXED BY jobs_pending_next_at WHERE status = 'pending' AND kind = 'callout'
GROUP BY callout`, "jobs_pending_next_at"},
		{"list pending", `SELECT id FROM jobs WHERE status = 'pending' AND status <> 'delivered' ORDER BY id LIMIT 100`, "jobs_open_id (status=?)"},
		{"settle", `UPDATE jobs SET status = 'delivered' WHERE id = 'x' AND status = 'pending' AND lease_owner = 'o'`, "sqlite_autoindex_jobs_1 (id=?)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := r.Query("EXPLAIN QUERY PLAN " + tc.query)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			got := strings.Join(plan, "\n")
			if !strings.Contains(got, tc.want) {
				t.Errorf("plan:\n%s\nwant it to contain %q", got, tc.want)
			}
			for _, p := range plan {
				if p == "SCAN jobs" {
					t.Errorf("plan scans the jobs table:\n%s", got)
				}
			}
		})
	}
}
