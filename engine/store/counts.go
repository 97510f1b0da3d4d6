package store

import (
	"context"
	"fmt"
	"strings"
)

// countChange is one change to a row of callout_counts: n jobs of callout came
// into (n > 0) or left (n < 0) status; lastID, when not empty, is the highest job
// ID inserted with that status.
type countChange struct {
	callout string
	status  Status
	n       int64
	lastID  string
}

// countChanges gathers the changes of one write to callout_counts, one entry per
// callout and status. Its zero value is ready. On SQLite the writing statements
// keep callout_counts themselves (012_counts_by_writer.sql): each write adds the
// changes of the rows it touched, then applies them in its own transaction, so a
// batch of 64 settles costs two upserts instead of 128 trigger runs. On PostgreSQL
// statement-level triggers keep the table and the changes are not applied.
type countChanges []countChange

// add records that n callout jobs of callout entered (n > 0) or left (n < 0)
// status; lastID is the highest ID among jobs inserted with it, or "".
func (c *countChanges) add(callout string, status Status, n int64, lastID string) {
	for i := range *c {
		e := &(*c)[i]
		if e.callout == callout && e.status == status {
			e.n += n
			e.lastID = max(e.lastID, lastID)
			return
		}
	}
	*c = append(*c, countChange{callout: callout, status: status, n: n, lastID: lastID})
}

// move records that n callout jobs of callout went from status from to status to.
func (c *countChanges) move(callout string, from, to Status, n int64) {
	if from == to || n == 0 {
		return
	}
	c.add(callout, from, -n, "")
	c.add(callout, to, n, "")
}

// countsByWriter reports whether the writing statements keep callout_counts
// themselves (SQLite) rather than the database's triggers (PostgreSQL).
func (s *Store) countsByWriter() bool {
	return s.db.driver() == DriverSQLite && !s.countsByTrigger
}

// applyCounts adds c to callout_counts in t, when this store's writers keep the
// table (countsByWriter).
func (s *Store) applyCounts(ctx context.Context, t tx, c countChanges) error {
	if !s.countsByWriter() {
		return nil
	}
	for _, e := range c {
		if e.n == 0 && e.lastID == "" {
			continue
		}
		_, err := t.exec(ctx, `INSERT INTO callout_counts (callout, status, shard, n, last_id) VALUES (?, ?, 0, ?, ?)
ON CONFLICT (callout, status, shard) DO UPDATE SET n = n + excluded.n,
	last_id = CASE WHEN excluded.last_id > last_id THEN excluded.last_id ELSE last_id END`,
			e.callout, string(e.status), e.n, e.lastID)
		if err != nil {
			return fmt.Errorf("callout counts: %w", err)
		}
	}
	return nil
}

// countGroups adds to c the callout jobs that where (a condition on jobs, with
// args) selects, by callout and status, as leaving their status (a purge) or,
// when to is not empty, moving to it (a retry). It must run in the transaction
// of the write, before it, so it counts exactly the rows the write will change.
func (s *Store) countGroups(ctx context.Context, t tx, c *countChanges, to Status, where string, args ...any) error {
	if !s.countsByWriter() {
		return nil
	}
	var q strings.Builder
	q.WriteString("SELECT callout, status, COUNT(*) FROM jobs WHERE kind = 'callout' AND (")
	q.WriteString(where)
	q.WriteString(") GROUP BY callout, status")
	r, err := t.query(ctx, q.String(), args...)
	if err != nil {
		return err
	}
	defer r.Close()
	for r.Next() {
		var callout, status string
		var n int64
		if err := r.Scan(&callout, &status, &n); err != nil {
			return err
		}
		if to == "" {
			c.add(callout, Status(status), -n, "")
		} else {
			c.move(callout, Status(status), to, n)
		}
	}
	return r.Err()
}
