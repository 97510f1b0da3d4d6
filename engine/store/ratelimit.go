package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// TakePermits takes up to want permits of the rate limit key (a callout name) for
// the window of length per that holds now, of which limit are allowed in all:
// every node of the store counts in the same row, so together they never exceed
// limit per window. It returns how many it took (0 when the window is used up) and
// when the window ends, which is when a caller that got none may ask again.
//
// Windows are aligned to per on the caller's clock (UTC): a node whose clock is
// behind the stored window takes nothing until its clock reaches it.
func (s *Store) TakePermits(ctx context.Context, key string, limit int, per time.Duration, want int, now time.Time) (int, time.Time, error) {
	switch {
	case key == "":
		return 0, time.Time{}, errors.New("store: take permits: empty key")
	case limit < 1 || per <= 0 || want < 1:
		return 0, time.Time{}, fmt.Errorf("store: take permits %s: limit, window and want must be positive", key)
	}
	now = utc(now)
	start := now.Truncate(per)
	var got int
	var end time.Time
	err := s.committer.do(ctx, 1, func(ctx context.Context, t tx) (error, error) {
		got, end = 0, start.Add(per)
		// A new window resets the count; on PostgreSQL the upsert also locks the row
		// until the commit, so the read below is this transaction's alone.
		if _, err := t.exec(ctx, `INSERT INTO rate_windows (callout, window_start, used) VALUES (?, ?, 0)
ON CONFLICT (callout) DO UPDATE SET window_start = excluded.window_start, used = 0
WHERE rate_windows.window_start < excluded.window_start`, key, start); err != nil {
			return nil, err
		}
		var stored time.Time
		var used int
		if _, err := queryRow(ctx, t, "SELECT window_start, used FROM rate_windows WHERE callout = ?", []any{key}, &stored, &used); err != nil {
			return nil, err
		}
		if stored.After(start) { // a node ahead of us opened a later window
			end = stored
			return nil, nil
		}
		got = min(want, limit-used)
		if got <= 0 {
			got = 0
			return nil, nil
		}
		_, err := t.exec(ctx, "UPDATE rate_windows SET used = used + ? WHERE callout = ?", got, key)
		return nil, err
	})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: take permits %s: %w", key, err)
	}
	return got, end, nil
}
