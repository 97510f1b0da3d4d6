package store

import (
	"context"
	"fmt"
	"time"
)

// EarlierPending reports whether a callout delivery of the same callout for the
// same record (form and entry ID) as j, enqueued before it (a smaller ID), is still
// pending — waiting, or being attempted by any node — and when that one is due.
// A callout with ordering per_entry sends j only when there is none, so one
// record's deliveries reach the receiver in the order they were handled; the check
// needs no lock because the earlier job stays pending until the transaction that
// records its final outcome commits.
func (s *Store) EarlierPending(ctx context.Context, j Job) (time.Time, bool, error) {
	if s.committer.isClosed() {
		return time.Time{}, false, ErrClosed
	}
	var next time.Time
	var found bool
	err := readTx(ctx, s.db, func(t tx) error {
		var err error
		found, err = queryRow(ctx, t, `SELECT next_at FROM jobs
WHERE form = ? AND entry_id = ? AND kind = 'callout' AND callout = ? AND status = 'pending' AND id < ?
ORDER BY id LIMIT 1`, []any{j.Form, j.EntryID, j.Callout, j.ID}, &next)
		return err
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: earlier pending %s: %w", j.ID, err)
	}
	return next, found, nil
}
