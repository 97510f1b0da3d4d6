package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// HistoryIDPrefix is the prefix of event history IDs.
const HistoryIDPrefix = "evt_"

// HistoryRecord is the history of one handled event: which event, and Doc, the
// engine's account of it (opaque to the store).
type HistoryRecord struct {
	ID        string // unique and time-ordered (HistoryIDPrefix + ULID); filled in when empty
	CreatedAt time.Time
	Form      string
	EntryID   string
	EventKind string
	Doc       []byte
	// RulesID names the rule list (PutHistoryRules) Doc is relative to; "" for none.
	RulesID string
	// Rules is the document of that rule list, filled in by History.
	Rules []byte
}

// HistoryFilter selects history records for History. Zero fields do not filter.
type HistoryFilter struct {
	Form    string
	EntryID string
	// Before is a cursor: only records whose ID sorts before it (older ones), as
	// the next page of a newest-first listing.
	Before string
	Limit  int // at most this many; 0 means 100, larger than 1000 means 1000
}

// prepareHistory fills in the zero IDs and times of recs, in place, and checks them.
func prepareHistory(recs []HistoryRecord, now time.Time) error {
	for i := range recs {
		r := &recs[i]
		if r.CreatedAt.IsZero() {
			r.CreatedAt = now
		}
		r.CreatedAt = utc(r.CreatedAt)
		if r.ID == "" {
			r.ID = NewID(HistoryIDPrefix, r.CreatedAt)
		}
		if len(r.ID) > 200 {
			return fmt.Errorf("store: history %d: ID longer than 200 bytes", i)
		}
		if r.Doc == nil {
			r.Doc = []byte{}
		}
	}
	return nil
}

// insertHistory inserts prepared records. A record whose ID is stored already is
// skipped: the write runs again only after a COMMIT whose outcome was unknown, and
// then the row is this very write's.
func insertHistory(ctx context.Context, t tx, recs []HistoryRecord) error {
	for len(recs) > 0 {
		chunk := recs[:min(len(recs), insertChunk)]
		recs = recs[len(chunk):]
		var q strings.Builder
		q.WriteString("INSERT INTO history (id, created_at, form, entry_id, rules_id, event_kind, doc) VALUES ")
		args := make([]any, 0, 7*len(chunk))
		for i, r := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			args = append(args, r.ID, r.CreatedAt, r.Form, r.EntryID, r.RulesID, r.EventKind, r.Doc)
		}
		q.WriteString(" ON CONFLICT (id) DO NOTHING")
		if err := execLater(ctx, t, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// EnqueueHistory is Enqueue that also stores hist, the history of the events the
// jobs come from, in the same transaction: either the jobs and their history are
// all stored or none is. With no jobs it stores the history alone, and still
// returns only once it is committed.
func (s *Store) EnqueueHistory(ctx context.Context, jobs []Job, hist []HistoryRecord) error {
	if len(jobs) == 0 && len(hist) == 0 {
		return nil
	}
	now := time.Now()
	if err := prepareJobs(jobs, now); err != nil {
		return err
	}
	if err := prepareHistory(hist, now); err != nil {
		return err
	}
	return s.enqueue(ctx, &insertSpec{jobs: append([]Job(nil), jobs...), hist: append([]HistoryRecord(nil), hist...)})
}

// AppendHistory queues hist for the next group commit and returns without waiting
// for it: for the history of events that enqueue nothing (no rule fired, or the save
// was rejected), whose Handle must not wait for a commit of its own. The records are
// committed with the writes around them; Close commits those still queued. A write
// that fails is logged. It returns ErrClosed after Close, and waits only while the
// committer's queue is full.
func (s *Store) AppendHistory(ctx context.Context, hist []HistoryRecord) error {
	if len(hist) == 0 {
		return nil
	}
	if err := prepareHistory(hist, time.Now()); err != nil {
		return err
	}
	own := append([]HistoryRecord(nil), hist...)
	o := &op{ctx: context.WithoutCancel(ctx), weight: len(own), idempotent: true, done: make(chan error, 1)}
	o.fn = func(ctx context.Context, t tx) (error, error) { return nil, insertHistory(ctx, t, own) }
	c := s.committer
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return ErrClosed
	}
	select {
	case c.ops <- o:
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	c.mu.RUnlock()
	go func() {
		if err := <-o.done; err != nil {
			s.log.Error("store: event history not recorded", "records", len(own), "err", err)
		}
	}()
	return nil
}

// History returns the history records f selects, newest first.
func (s *Store) History(ctx context.Context, f HistoryFilter) ([]HistoryRecord, error) {
	if s.committer.isClosed() {
		return nil, ErrClosed
	}
	var c conditions
	if f.Form != "" {
		c.add("h.form = ?", f.Form)
	}
	if f.EntryID != "" {
		c.add("h.entry_id = ?", f.EntryID)
	}
	if f.Before != "" {
		c.add("h.id < ?", f.Before)
	}
	q := `SELECT h.id, h.created_at, h.form, h.entry_id, h.event_kind, h.doc, h.rules_id, COALESCE(r.doc, ?)
FROM history h LEFT JOIN history_rules r ON r.id = h.rules_id`
	q += c.where() + " ORDER BY h.id DESC LIMIT ?"
	args := append(append([]any{[]byte{}}, c.args...), listLimit(f.Limit))
	var out []HistoryRecord
	err := readTx(ctx, s.db, func(t tx) error {
		var err error
		out, err = queryAll(ctx, t, func(r rows) (HistoryRecord, error) {
			var h HistoryRecord
			err := r.Scan(&h.ID, &h.CreatedAt, &h.Form, &h.EntryID, &h.EventKind, &h.Doc, &h.RulesID, &h.Rules)
			if len(h.Rules) == 0 {
				h.Rules = nil
			}
			return h, err
		}, q, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: history: %w", err)
	}
	return out, nil
}

// PutHistoryRules stores a rule list that history records refer to by id (its
// content's hash: storing it again is a no-op), and returns once it is committed.
func (s *Store) PutHistoryRules(ctx context.Context, id string, doc []byte, now time.Time) error {
	if id == "" || len(id) > 200 {
		return errors.New("store: history rules: ID must be 1 to 200 bytes")
	}
	now = utc(now)
	err := s.committer.do(ctx, 1, func(ctx context.Context, t tx) (error, error) {
		_, err := t.exec(ctx, "INSERT INTO history_rules (id, created_at, doc) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING", id, now, doc)
		return nil, err
	})
	if err != nil {
		return fmt.Errorf("store: history rules %s: %w", id, err)
	}
	return nil
}

// PurgeHistory deletes up to limit history records made before before, oldest
// first, in one short transaction, and returns how many it deleted. A caller purging
// a long backlog calls it again while it returns limit, so the write lock is never
// held for long.
func (s *Store) PurgeHistory(ctx context.Context, before time.Time, limit int) (int64, error) {
	if limit <= 0 {
		return 0, errors.New("store: purge history: limit must be positive")
	}
	floor := idFloor(HistoryIDPrefix, before)
	q := "DELETE FROM history WHERE id IN (SELECT id FROM history WHERE id < ? ORDER BY id LIMIT ?)"
	var n int64
	err := s.committer.do(ctx, limit, func(ctx context.Context, t tx) (error, error) {
		var err error
		n, err = t.exec(ctx, q, floor, limit)
		return nil, err
	})
	if err != nil {
		return 0, fmt.Errorf("store: purge history: %w", err)
	}
	return n, nil
}
