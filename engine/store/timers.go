package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// TimerState is where a timer of a time-based rule is in its life.
type TimerState string

// The timer states.
const (
	TimerArmed TimerState = "armed" // waiting for DueAt
	TimerDone  TimerState = "done"  // every repetition for its anchor value has come
)

// Valid reports whether s is one of the defined timer states.
func (s TimerState) Valid() bool { return s == TimerArmed || s == TimerDone }

// Timer is the timer of one time-based rule for one record: it falls due at the
// record's anchor value plus the rule's offset, and again Every later, Repetitions
// times in all. There is at most one timer per (Rule, Form, EntryID); arming it for
// another anchor value starts its series again.
type Timer struct {
	Rule    string
	Form    string
	EntryID string
	Anchor  time.Time     // the anchor field's value it was armed for
	Offset  time.Duration // the rule's offset when it was armed
	// Repetition is the firing due next, from 0; Repetitions how many the anchor
	// value allows (1 + the rule's repeat max); Every the interval between them.
	Repetition  int
	Repetitions int
	Every       time.Duration
	DueAt       time.Time
	State       TimerState
	Fired       int       // firings whose condition held
	ArmedBy     string    // what armed it: the event kind (create, update)
	ArmedAt     time.Time // when: the event's time (given to EnqueueArming, else its now)
	UpdatedAt   time.Time
	LastFiredAt time.Time // zero if it never fired

	LeaseOwner string    // the node firing it; "" when not leased
	LeaseUntil time.Time // when that lease expires; zero when not leased
}

// Arming is what one or more saved events change about timers, written by
// EnqueueArming in the transaction that stores their deliveries.
type Arming struct {
	// Arm arms (or keeps) one timer each: a timer that does not exist yet, or was
	// armed for another anchor value or offset, is armed afresh at DueAt with
	// repetition 0; one armed for the same anchor and offset is left as it is, so
	// saving a record again neither delays nor repeats its firing. Rule, Form,
	// EntryID, Anchor, Offset, Repetitions, Every, DueAt, ArmedBy and ArmedAt are
	// used.
	Arm []Timer
	// Disarm deletes a record's timer of one rule (its anchor became NULL).
	Disarm []TimerKey
	// Forget deletes every timer of a record and its snapshot (it was deleted).
	Forget []RecordKey
	// Snapshots store the latest values of records (opaque to the store).
	Snapshots []Snapshot
}

// Empty reports whether a changes nothing.
func (a *Arming) Empty() bool {
	return a == nil || len(a.Arm) == 0 && len(a.Disarm) == 0 && len(a.Forget) == 0 && len(a.Snapshots) == 0
}

// TimerKey names the timer of one rule for one record.
type TimerKey struct{ Rule, Form, EntryID string }

// RecordKey names a record.
type RecordKey struct{ Form, EntryID string }

// Snapshot is the latest values of a record that the engine has seen, encoded by
// the engine.
type Snapshot struct {
	Form    string
	EntryID string
	Data    []byte
}

// DueTimer is a claimed timer with the snapshot of its record (nil if none).
type DueTimer struct {
	Timer
	Snapshot []byte
}

// TimerFiring is the outcome of one claimed timer, for FireTimers.
type TimerFiring struct {
	// Timer is the timer as claimed: its key, Anchor and Repetition must still be
	// what the store holds, else the firing is refused with ErrLeaseLost (it was
	// re-armed meanwhile) and writes nothing.
	Timer Timer
	// Fired reports that the condition held (the firing counts, and Jobs are its
	// deliveries).
	Fired bool
	// Next, if not zero, arms the timer again at Next as repetition NextRepetition;
	// zero marks it done.
	Next           time.Time
	NextRepetition int
	// Jobs are enqueued (as by Enqueue) in the transaction that records the firing.
	Jobs []Job
	// At is when the firing happened.
	At time.Time
	// History, if not nil, is the event history record of the firing decision
	// (fired or not), stored as by EnqueueHistory in the transaction that records
	// the firing, and only if the firing is recorded.
	History *HistoryRecord
}

// prepareFiring prepares the jobs and the history record of f, in place; the
// record is copied first, so the caller's is not changed.
func prepareFiring(f *TimerFiring) error {
	if err := prepareJobs(f.Jobs, f.At); err != nil {
		return err
	}
	if f.History == nil {
		return nil
	}
	h := []HistoryRecord{*f.History}
	if err := prepareHistory(h, f.At); err != nil {
		return err
	}
	f.History = &h[0]
	return nil
}

// TimerFilter selects timers for ListTimers. Zero fields do not filter.
type TimerFilter struct {
	Rule    string
	Form    string
	EntryID string
	State   TimerState // "" lists armed timers only; TimerDone the finished ones
	All     bool       // armed and done timers
	Limit   int        // at most this many; 0 means 100, larger than 1000 means 1000
	Offset  int        // skip this many first (paging)
}

// timerColumns lists the timers columns in the order scanTimer reads them.
const timerColumns = `rule, form, entry_id, anchor, offset_us, repetition, repetitions, every_us, due_at, state, fired,
	armed_by, armed_at, updated_at, last_fired_at, lease_owner, lease_until`

func scanTimer(r rows) (Timer, error) {
	var t Timer
	var off, every int64
	err := r.Scan(&t.Rule, &t.Form, &t.EntryID, &t.Anchor, &off, &t.Repetition, &t.Repetitions, &every, &t.DueAt, &t.State, &t.Fired,
		&t.ArmedBy, &t.ArmedAt, &t.UpdatedAt, &t.LastFiredAt, &t.LeaseOwner, &t.LeaseUntil)
	t.Offset, t.Every = time.Duration(off)*time.Microsecond, time.Duration(every)*time.Microsecond
	return t, err
}

// EnqueueArming stores jobs and history records as EnqueueHistory does and
// applies a, in one transaction: a save's deliveries, its history and its timers
// are written together or not at all. It is idempotent, like Enqueue, after a
// COMMIT whose outcome is unknown: arming the same anchor again leaves the timer as
// it is.
func (s *Store) EnqueueArming(ctx context.Context, jobs []Job, hist []HistoryRecord, a *Arming, now time.Time) error {
	if a.Empty() {
		return s.EnqueueHistory(ctx, jobs, hist)
	}
	if err := prepareJobs(jobs, time.Now()); err != nil {
		return err
	}
	if err := prepareHistory(hist, time.Now()); err != nil {
		return err
	}
	for _, t := range a.Arm {
		switch {
		case t.Rule == "" || t.Form == "":
			return fmt.Errorf("store: arm timer: empty rule or form")
		case t.Anchor.IsZero() || t.DueAt.IsZero():
			return fmt.Errorf("store: arm timer %q for %s %s: zero anchor or due time", t.Rule, t.Form, t.EntryID)
		case t.Repetitions < 1:
			return fmt.Errorf("store: arm timer %q for %s %s: repetitions must be at least 1", t.Rule, t.Form, t.EntryID)
		}
	}
	own := append([]Job(nil), jobs...)
	ownHist := append([]HistoryRecord(nil), hist...)
	now = utc(now)
	// Idempotent, like an Enqueue: after a COMMIT whose reply was lost the committer
	// runs the write again (o.again), and it finds its rows.
	o := &op{ctx: ctx, weight: len(own) + len(ownHist) + len(a.Arm) + len(a.Forget) + 1, idempotent: true, done: make(chan error, 1)}
	o.fn = func(ctx context.Context, t tx) (error, error) {
		if err := s.insertJobs(ctx, t, own, nil, o.again); err != nil {
			return nil, err
		}
		if err := insertHistory(ctx, t, ownHist); err != nil {
			return nil, err
		}
		return nil, applyArming(ctx, t, a, now)
	}
	return s.committer.submit(o)
}

// applyArming writes a inside t: forgotten records first, then snapshots, then the
// timers armed and disarmed.
func applyArming(ctx context.Context, t tx, a *Arming, now time.Time) error {
	for _, k := range a.Forget {
		if _, err := t.exec(ctx, `DELETE FROM timers WHERE form = ? AND entry_id = ?`, k.Form, k.EntryID); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `DELETE FROM timer_records WHERE form = ? AND entry_id = ?`, k.Form, k.EntryID); err != nil {
			return err
		}
	}
	for _, sn := range a.Snapshots {
		if _, err := t.exec(ctx, `INSERT INTO timer_records (form, entry_id, data, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (form, entry_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
			sn.Form, sn.EntryID, sn.Data, now); err != nil {
			return err
		}
	}
	for _, k := range a.Disarm {
		if _, err := t.exec(ctx, `DELETE FROM timers WHERE rule = ? AND form = ? AND entry_id = ?`, k.Rule, k.Form, k.EntryID); err != nil {
			return err
		}
	}
	for _, tm := range a.Arm {
		if _, err := t.exec(ctx, `INSERT INTO timers (rule, form, entry_id, anchor, offset_us, repetition, repetitions, every_us,
	due_at, state, fired, armed_by, armed_at, updated_at, lease_owner)
VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, 'armed', 0, ?, ?, ?, '')
ON CONFLICT (rule, form, entry_id) DO UPDATE SET anchor = excluded.anchor, offset_us = excluded.offset_us,
	repetition = 0, repetitions = excluded.repetitions, every_us = excluded.every_us, due_at = excluded.due_at,
	state = 'armed', fired = 0, armed_by = excluded.armed_by, armed_at = excluded.armed_at,
	updated_at = excluded.updated_at, last_fired_at = NULL, lease_owner = '', lease_until = NULL
WHERE timers.anchor <> excluded.anchor OR timers.offset_us <> excluded.offset_us`,
			tm.Rule, tm.Form, tm.EntryID, utc(tm.Anchor), tm.Offset.Microseconds(), tm.Repetitions, tm.Every.Microseconds(),
			utc(tm.DueAt), tm.ArmedBy, utc(cmpOr(tm.ArmedAt, now)), now); err != nil {
			return err
		}
	}
	return nil
}

// ClaimTimers leases up to limit armed timers due by now to owner for lease, with
// their records' snapshots, earliest due first. Leases run on the database clock
// on PostgreSQL and claims skip locked rows (FOR UPDATE SKIP LOCKED), as Claim's do,
// so several nodes never take the same timer; a crashed node's timers are taken
// over when its leases expire. The caller records each with FireTimers.
func (s *Store) ClaimTimers(ctx context.Context, owner string, limit int, lease time.Duration, now time.Time) ([]DueTimer, error) {
	switch {
	case owner == "":
		return nil, errors.New("store: claim timers: empty owner")
	case limit <= 0:
		return nil, fmt.Errorf("store: claim timers: limit must be positive, got %d", limit)
	case lease <= 0:
		return nil, fmt.Errorf("store: claim timers: lease must be positive, got %v", lease)
	}
	if s.committer.isClosed() {
		return nil, ErrClosed
	}
	q, args := s.claimTimersQuery(owner, limit, lease, now)
	var out []DueTimer
	err := s.committer.do(ctx, 1, func(ctx context.Context, t tx) (error, error) {
		var err error
		out, err = claimTimersTx(ctx, t, q, args)
		return nil, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim timers: %w", err)
	}
	return out, nil
}

// claimTimersQuery returns the claim statement of ClaimTimers with its arguments.
func (s *Store) claimTimersQuery(owner string, limit int, lease time.Duration, now time.Time) (string, []any) {
	now = utc(now)
	until, clock, la := s.leaseTimes(lease, now)
	q := `UPDATE timers SET lease_owner = ?, lease_until = ` + until + `
WHERE (rule, form, entry_id) IN (
	SELECT rule, form, entry_id FROM timers
	WHERE state = 'armed' AND due_at <= ? AND (lease_until IS NULL OR lease_until <= ` + clock + `)
	ORDER BY due_at
	LIMIT ?` + s.db.lockSuffix() + `)
RETURNING ` + timerColumns
	args := append([]any{owner}, la.until...)
	args = append(args, now)
	args = append(args, la.clock...)
	args = append(args, limit)
	return q, args
}

// claimTimersTx runs the claim statement q inside t and reads the claimed timers'
// snapshots, earliest due first.
func claimTimersTx(ctx context.Context, t tx, q string, args []any) ([]DueTimer, error) {
	timers, err := queryAll(ctx, t, scanTimer, q, args...)
	if err != nil {
		return nil, err
	}
	out := make([]DueTimer, len(timers))
	for i, tm := range timers {
		out[i].Timer = tm
		if _, err := queryRow(ctx, t, `SELECT data FROM timer_records WHERE form = ? AND entry_id = ?`,
			[]any{tm.Form, tm.EntryID}, &out[i].Snapshot); err != nil {
			return nil, err
		}
	}
	sortTimersByDue(out)
	return out, nil
}

// ClaimAndFireTimers is ClaimTimers and FireTimers in one transaction, for a caller
// whose decisions need no I/O: decide is called inside the transaction with the
// claimed timers (earliest due first) and returns their firings; they are recorded
// with their jobs before the transaction commits, so a batch of due timers costs
// one commit instead of two. decide may be called again if the transaction has to
// be retried; only the firings of the run that committed are returned, with their
// results (nil, or wrapping ErrLeaseLost) as in FireTimers.
func (s *Store) ClaimAndFireTimers(ctx context.Context, owner string, limit int, lease time.Duration, now time.Time,
	decide func([]DueTimer) []TimerFiring) (firings []TimerFiring, results []error, err error) {
	switch {
	case owner == "":
		return nil, nil, errors.New("store: claim timers: empty owner")
	case limit <= 0:
		return nil, nil, fmt.Errorf("store: claim timers: limit must be positive, got %d", limit)
	case lease <= 0:
		return nil, nil, fmt.Errorf("store: claim timers: lease must be positive, got %v", lease)
	}
	if s.committer.isClosed() {
		return nil, nil, ErrClosed
	}
	q, args := s.claimTimersQuery(owner, limit, lease, now)
	err = s.committer.do(ctx, limit, func(ctx context.Context, t tx) (error, error) {
		due, err := claimTimersTx(ctx, t, q, args)
		if err != nil || len(due) == 0 {
			firings, results = nil, nil
			return nil, err
		}
		fs := decide(due)
		for i := range fs {
			if err := prepareFiring(&fs[i]); err != nil {
				return nil, err
			}
		}
		res, err := s.fireTimersTx(ctx, t, owner, fs)
		firings, results = fs, res
		return nil, err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: fire timers: %w", err)
	}
	return firings, results, nil
}

func sortTimersByDue(ts []DueTimer) {
	for i := 1; i < len(ts); i++ { // insertion sort: claims are small and nearly sorted
		for k := i; k > 0 && ts[k].Timer.Before(&ts[k-1].Timer); k-- {
			ts[k], ts[k-1] = ts[k-1], ts[k]
		}
	}
}

// Before reports whether t fires before u in the order the store claims and fires
// timers: by due time, then form, record and rule (a total order, so firings are
// deterministic, as replay's virtual clock needs them to be).
func (t *Timer) Before(u *Timer) bool {
	if !t.DueAt.Equal(u.DueAt) {
		return t.DueAt.Before(u.DueAt)
	}
	if t.Form != u.Form {
		return t.Form < u.Form
	}
	if t.EntryID != u.EntryID {
		return t.EntryID < u.EntryID
	}
	return t.Rule < u.Rule
}

// FireTimers records the outcomes of timers owner claimed, each with its jobs, in
// one transaction: a firing is marked (done, or armed for its next repetition) in
// the transaction that enqueues its deliveries, so it happens exactly once.
// A firing's History record is stored with it.
// results[i] is nil, or wraps ErrLeaseLost when the timer is no longer as claimed
// (re-armed, disarmed, or taken by another node after the lease expired); such a
// firing writes nothing. A non-nil err means nothing was written.
func (s *Store) FireTimers(ctx context.Context, owner string, fs []TimerFiring) (results []error, err error) {
	if owner == "" {
		return nil, errors.New("store: fire timers: empty owner")
	}
	if s.committer.isClosed() {
		return nil, ErrClosed
	}
	own := make([]TimerFiring, len(fs))
	weight := 0
	for i, f := range fs {
		own[i] = f
		own[i].Jobs = append([]Job(nil), f.Jobs...)
		if err := prepareFiring(&own[i]); err != nil {
			return nil, err
		}
		weight += 1 + len(f.Jobs)
	}
	err = s.committer.do(ctx, weight, func(ctx context.Context, t tx) (error, error) {
		var err error
		results, err = s.fireTimersTx(ctx, t, owner, own)
		return nil, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: fire timers: %w", err)
	}
	return results, nil
}

// fireTimersTx records firings (their jobs prepared) inside t.
func (s *Store) fireTimersTx(ctx context.Context, t tx, owner string, fs []TimerFiring) ([]error, error) {
	results := make([]error, len(fs))
	var jobs []Job
	var hist []HistoryRecord
	for i, f := range fs {
		tm := f.Timer
		state, next, rep := string(TimerDone), tm.DueAt, tm.Repetition
		if !f.Next.IsZero() {
			state, next, rep = string(TimerArmed), f.Next, f.NextRepetition
		}
		fired, last := 0, any(nil)
		if f.Fired {
			fired, last = 1, utc(f.At)
		}
		n, err := t.exec(ctx, `UPDATE timers SET state = ?, due_at = ?, repetition = ?, fired = fired + ?,
	last_fired_at = COALESCE(?, last_fired_at), updated_at = ?, lease_owner = '', lease_until = NULL
WHERE rule = ? AND form = ? AND entry_id = ? AND anchor = ? AND repetition = ? AND state = 'armed' AND lease_owner = ?`,
			state, utc(next), rep, fired, last, utc(f.At), tm.Rule, tm.Form, tm.EntryID, utc(tm.Anchor), tm.Repetition, owner)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			results[i] = fmt.Errorf("store: timer %q for %s %s: %w", tm.Rule, tm.Form, tm.EntryID, ErrLeaseLost)
			continue
		}
		jobs = append(jobs, f.Jobs...)
		if f.History != nil {
			hist = append(hist, *f.History)
		}
	}
	if err := s.insertJobs(ctx, t, jobs, nil, false); err != nil {
		return nil, err
	}
	return results, insertHistory(ctx, t, hist)
}

// ReleaseTimers gives back every timer lease owner holds (on graceful shutdown),
// so other nodes can fire those timers at once.
func (s *Store) ReleaseTimers(ctx context.Context, owner string) (int64, error) {
	if s.committer.isClosed() {
		return 0, ErrClosed
	}
	var n int64
	err := writeTx(ctx, s.db, func(t tx) error {
		var err error
		n, err = t.exec(ctx, `UPDATE timers SET lease_owner = '', lease_until = NULL WHERE lease_owner = ? AND state = 'armed'`, owner)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: release timers: %w", err)
	}
	return n, nil
}

// NextTimerDue returns when the next armed timer can be claimed (its due time, or
// the end of its lease if later), and false if none is armed. As for NextDue, a
// lease end on PostgreSQL's clock is returned on the caller's clock now.
func (s *Store) NextTimerDue(ctx context.Context, now time.Time) (time.Time, bool, error) {
	if s.committer.isClosed() {
		return time.Time{}, false, ErrClosed
	}
	leaseEnd, args := s.leaseEndOnCallerClock(now)
	var next time.Time
	err := readTx(ctx, s.db, func(t tx) error {
		// The earliest unleased timer comes from the index; leased ones are few.
		var free, leased time.Time
		if _, err := queryRow(ctx, t, `SELECT due_at FROM timers WHERE state = 'armed' AND lease_until IS NULL ORDER BY due_at LIMIT 1`, nil, &free); err != nil {
			return err
		}
		if _, err := queryRow(ctx, t, `SELECT MIN(CASE WHEN `+leaseEnd+` > due_at THEN `+leaseEnd+` ELSE due_at END)
FROM timers WHERE lease_until IS NOT NULL AND state = 'armed'`, append(args, args...), &leased); err != nil {
			return err
		}
		next = free
		if !leased.IsZero() && (next.IsZero() || leased.Before(next)) {
			next = leased
		}
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: next timer due: %w", err)
	}
	return next, !next.IsZero(), nil
}

// ListTimers returns the timers f selects, earliest due first.
func (s *Store) ListTimers(ctx context.Context, f TimerFilter) ([]Timer, error) {
	if f.State != "" && !f.State.Valid() {
		return nil, fmt.Errorf("store: list timers: state %q, want armed or done", f.State)
	}
	if s.committer.isClosed() {
		return nil, ErrClosed
	}
	var c conditions
	switch {
	case f.State != "":
		c.add("state = ?", string(f.State))
	case !f.All:
		c.add("state = ?", string(TimerArmed))
	}
	if f.Rule != "" {
		c.add("rule = ?", f.Rule)
	}
	if f.Form != "" {
		c.add("form = ?", f.Form)
	}
	if f.EntryID != "" {
		c.add("entry_id = ?", f.EntryID)
	}
	q := "SELECT " + timerColumns + " FROM timers" + c.where() + " ORDER BY due_at, form, entry_id, rule LIMIT ? OFFSET ?"
	args := append(c.args, listLimit(f.Limit), max(f.Offset, 0))
	var out []Timer
	err := readTx(ctx, s.db, func(t tx) error {
		var err error
		out, err = queryAll(ctx, t, scanTimer, q, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: list timers: %w", err)
	}
	return out, nil
}

// CountArmedTimers returns how many timers are armed.
func (s *Store) CountArmedTimers(ctx context.Context) (int64, error) {
	if s.committer.isClosed() {
		return 0, ErrClosed
	}
	var n int64
	err := readTx(ctx, s.db, func(t tx) error {
		_, err := queryRow(ctx, t, `SELECT COUNT(*) FROM timers WHERE state = 'armed'`, nil, &n)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: count timers: %w", err)
	}
	return n, nil
}

// Snapshot returns the stored snapshot of a record, or ErrNotFound.
func (s *Store) Snapshot(ctx context.Context, form, entryID string) ([]byte, error) {
	if s.committer.isClosed() {
		return nil, ErrClosed
	}
	var data []byte
	var ok bool
	err := readTx(ctx, s.db, func(t tx) error {
		var err error
		ok, err = queryRow(ctx, t, `SELECT data FROM timer_records WHERE form = ? AND entry_id = ?`, []any{form, entryID}, &data)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: snapshot: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("store: snapshot of %s %s: %w", form, entryID, ErrNotFound)
	}
	return data, nil
}

// cmpOr returns t, or def when t is zero.
func cmpOr(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}
