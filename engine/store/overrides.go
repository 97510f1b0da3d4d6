package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// OverrideKind is what an Override switches: a callout or a rule.
type OverrideKind string

// The override kinds.
const (
	OverrideCallout OverrideKind = "callout"
	OverrideRule    OverrideKind = "rule"
)

// Override is an operator's activation or deactivation of a callout or rule made
// through the management API. It takes precedence over the configuration file's
// active flag on every node sharing the store, and survives restarts and reloads.
type Override struct {
	Kind      OverrideKind
	Name      string
	Active    bool
	UpdatedAt time.Time
}

// PutOverride stores o (replacing the override of the same kind and name) and
// advances the registry revision, so every engine on the store applies it (see
// Revision).
func (s *Store) PutOverride(ctx context.Context, o Override, now time.Time) (Override, error) {
	switch {
	case o.Kind != OverrideCallout && o.Kind != OverrideRule:
		return Override{}, fmt.Errorf("store: override: kind %q, want callout or rule", o.Kind)
	case o.Name == "":
		return Override{}, errors.New("store: override: empty name")
	}
	if s.committer.isClosed() {
		return Override{}, ErrClosed
	}
	o.UpdatedAt = utc(now)
	err := writeTx(ctx, s.db, func(t tx) error {
		if _, err := t.exec(ctx, `INSERT INTO overrides (kind, name, active, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (kind, name) DO UPDATE SET active = excluded.active, updated_at = excluded.updated_at`,
			string(o.Kind), o.Name, o.Active, o.UpdatedAt); err != nil {
			return err
		}
		return bumpRevision(ctx, t)
	})
	if err != nil {
		return Override{}, s.registryErr("put override", err)
	}
	return o, nil
}

// DeleteOverride removes the override of kind and name, so the configuration
// file's value is in force again. ErrNotFound if there is none.
func (s *Store) DeleteOverride(ctx context.Context, kind OverrideKind, name string) error {
	return s.registryChange(ctx, "delete override", string(kind)+" override "+name,
		"DELETE FROM overrides WHERE kind = ? AND name = ?", string(kind), name)
}

// ListOverrides returns every override, by kind and name.
func (s *Store) ListOverrides(ctx context.Context) ([]Override, error) {
	return registryAll(ctx, s, "list overrides", func(r rows) (Override, error) {
		var o Override
		err := r.Scan(&o.Kind, &o.Name, &o.Active, &o.UpdatedAt)
		return o, err
	}, "SELECT kind, name, active, updated_at FROM overrides ORDER BY kind, name")
}

// RuleStat is how often a rule fired and when it fired last.
type RuleStat struct {
	Rule      string
	FireCount int64
	LastFired time.Time
}

// upsertRuleFires adds fires (distinct rules, in name order, so that concurrent
// transactions on PostgreSQL lock the rows in the same order) to rule_stats.
func upsertRuleFires(ctx context.Context, t tx, fires []RuleFires) error {
	for len(fires) > 0 {
		chunk := fires[:min(len(fires), insertChunk)]
		fires = fires[len(chunk):]
		var q strings.Builder
		q.WriteString("INSERT INTO rule_stats (rule, fire_count, last_fired) VALUES ")
		args := make([]any, 0, 3*len(chunk))
		for i, f := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?)")
			args = append(args, f.Rule, f.N, utc(f.Last))
		}
		q.WriteString(` ON CONFLICT (rule) DO UPDATE SET fire_count = rule_stats.fire_count + excluded.fire_count,
	last_fired = CASE WHEN excluded.last_fired > rule_stats.last_fired THEN excluded.last_fired ELSE rule_stats.last_fired END`)
		if _, err := t.exec(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// RuleFires is n firings of a rule, the last at Last, added by AddFires.
type RuleFires struct {
	Rule string
	N    int64
	Last time.Time
}

// AddFires adds firings to the rule statistics (see RuleStats) in one
// group-committed write.
func (s *Store) AddFires(ctx context.Context, fires []RuleFires) error {
	if len(fires) == 0 {
		return nil
	}
	if s.committer.isClosed() {
		return ErrClosed
	}
	return s.committer.do(ctx, 1, func(ctx context.Context, t tx) (error, error) {
		return nil, upsertRuleFires(ctx, t, fires)
	})
}

// RuleStats returns the firing counts of every rule that has fired, by name.
func (s *Store) RuleStats(ctx context.Context) (map[string]RuleStat, error) {
	list, err := registryAll(ctx, s, "rule stats", func(r rows) (RuleStat, error) {
		var st RuleStat
		err := r.Scan(&st.Rule, &st.FireCount, &st.LastFired)
		return st, err
	}, "SELECT rule, fire_count, last_fired FROM rule_stats ORDER BY rule")
	if err != nil {
		return nil, err
	}
	out := make(map[string]RuleStat, len(list))
	for _, st := range list {
		out[st.Rule] = st
	}
	return out, nil
}

// CalloutStat summarises the deliveries of one callout: how many are in each
// status and the newest one.
type CalloutStat struct {
	Pending, Delivered, Failed int64
	// Last is the newest delivery (highest ID); its ID is empty when there is none.
	Last Job
}

// CalloutStats counts the callout deliveries (kind callout) of each name by
// status and finds each one's newest delivery (the highest ID). Both are kept
// by triggers in the callout_counts table (009_overrides.sql; per statement on
// PostgreSQL since 011_statement_counts.sql): a few rows per
// callout, however many deliveries the outbox holds.
func (s *Store) CalloutStats(ctx context.Context, names []string) (map[string]CalloutStat, error) {
	if s.committer.isClosed() {
		return nil, ErrClosed
	}
	out := make(map[string]CalloutStat, len(names))
	err := readTx(ctx, s.db, func(t tx) error {
		for _, name := range names {
			var st CalloutStat
			r, err := t.query(ctx, `SELECT status, CAST(SUM(n) AS BIGINT), MAX(last_id) FROM callout_counts WHERE callout = ? GROUP BY status`, name)
			if err != nil {
				return err
			}
			var last string
			for r.Next() {
				var status, id string
				var n int64
				if err := r.Scan(&status, &n, &id); err != nil {
					r.Close()
					return err
				}
				switch Status(status) {
				case StatusPending:
					st.Pending = n
				case StatusDelivered:
					st.Delivered = n
				case StatusFailed:
					st.Failed = n
				}
				last = max(last, id)
			}
			if err := r.Close(); err != nil {
				return err
			}
			if last != "" {
				j, ok, err := queryOne(ctx, t, scanJob, "SELECT "+jobColumns+" FROM jobs WHERE id = ?", last)
				if err != nil {
					return err
				}
				if ok {
					st.Last = j
				}
			}
			out[name] = st
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: callout stats: %w", err)
	}
	return out, nil
}

// RetryFilter selects the deliveries RetryMatching re-drives. Status is failed
// (the default) or pending; the other fields do not filter when zero. Since and
// Until bound the creation time: Since <= created_at < Until. Since also bounds
// the job ID as NewID makes them (a job whose ID the caller chose and that sorts
// before the IDs of Since is not selected by Since).
type RetryFilter struct {
	Status  Status
	Kind    Kind
	Callout string
	Since   time.Time
	Until   time.Time
}

func (f RetryFilter) where() (string, []any, error) {
	status := f.Status
	if status == "" {
		status = StatusFailed
	}
	if status != StatusFailed && status != StatusPending {
		return "", nil, fmt.Errorf("store: retry: status %q, want failed or pending (a delivered job is never sent again)", f.Status)
	}
	if f.Kind != "" && !f.Kind.Valid() {
		return "", nil, fmt.Errorf("store: retry: kind %q, want callout, email or note", f.Kind)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return "", nil, fmt.Errorf("store: retry: until %s is not after since %s", f.Until.UTC().Format(time.RFC3339), f.Since.UTC().Format(time.RFC3339))
	}
	where := []string{"status = ?", "status <> 'delivered'"} // the second lets jobs_open_id serve it
	args := []any{string(status)}
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, string(f.Kind))
	}
	if f.Callout != "" {
		where, args = append(where, "callout = ?"), append(args, f.Callout)
	}
	if !f.Since.IsZero() {
		// The ID bound lets the index jobs_open_id find the range: an ID made
		// by NewID holds its job's creation time, to the millisecond.
		where, args = append(where, "id >= ?", "created_at >= ?"), append(args, idFloor(JobIDPrefix, f.Since), utc(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "created_at < ?"), append(args, utc(f.Until))
	}
	return strings.Join(where, " AND "), args, nil
}

// CountMatching returns how many jobs RetryMatching would re-drive now.
func (s *Store) CountMatching(ctx context.Context, f RetryFilter) (int64, error) {
	where, args, err := f.where()
	if err != nil {
		return 0, err
	}
	if s.committer.isClosed() {
		return 0, ErrClosed
	}
	var n int64
	err = readTx(ctx, s.db, func(t tx) error {
		_, err := queryRow(ctx, t, "SELECT COUNT(*) FROM jobs WHERE "+where, args, &n)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: count: %w", err)
	}
	return n, nil
}

// RetryMatching re-drives, in one transaction, every job f selects, as Retry does
// for one: a failed job becomes pending, due at now, with a renewed attempt budget
// and its history kept; a pending one is made due at now. It returns how many it
// re-drove. Delivered jobs are never selected.
func (s *Store) RetryMatching(ctx context.Context, f RetryFilter, now time.Time) (int64, error) {
	where, args, err := f.where()
	if err != nil {
		return 0, err
	}
	if s.committer.isClosed() {
		return 0, ErrClosed
	}
	now = utc(now)
	var n int64
	err = writeTx(ctx, s.db, func(t tx) error {
		var counts countChanges
		if err := s.countGroups(ctx, t, &counts, StatusPending, where, args...); err != nil {
			return err
		}
		var err error
		n, err = t.exec(ctx, `UPDATE jobs SET
	max_attempts = CASE WHEN status = 'pending' THEN max_attempts ELSE attempts + retry_budget END,
	status = 'pending', next_at = ?, updated_at = ?
WHERE `+where, append([]any{now, now}, args...)...)
		if err != nil {
			return err
		}
		return s.applyCounts(ctx, t, counts)
	})
	if err != nil {
		return 0, fmt.Errorf("store: retry: %w", err)
	}
	return n, nil
}
