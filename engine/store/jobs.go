package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// jobColumns lists the jobs columns in the order scanJob reads them.
const jobColumns = `id, kind, callout, rule, form, entry_id, event_kind, payload, parent_id,
	status, attempts, max_attempts, next_at, created_at, updated_at,
	last_status_code, last_error, first_attempt_at, last_attempt_at, lease_owner, lease_until`

func scanJob(r rows) (Job, error) {
	var j Job
	err := r.Scan(&j.ID, &j.Kind, &j.Callout, &j.Rule, &j.Form, &j.EntryID, &j.EventKind, &j.Payload, &j.ParentID,
		&j.Status, &j.Attempts, &j.MaxAttempts, &j.NextAt, &j.CreatedAt, &j.UpdatedAt,
		&j.LastStatusCode, &j.LastError, &j.FirstAttemptAt, &j.LastAttemptAt, &j.LeaseOwner, &j.LeaseUntil)
	return j, err
}

func scanAttempt(r rows) (Attempt, error) {
	var a Attempt
	var us int64
	if err := r.Scan(&a.JobID, &a.N, &a.StartedAt, &us, &a.StatusCode, &a.Error, &a.Response); err != nil {
		return Attempt{}, err
	}
	a.Duration = time.Duration(us) * time.Microsecond
	return a, nil
}

// prepareJobs validates jobs and fills in their zero ID, NextAt and CreatedAt, and
// sets Status, Attempts and UpdatedAt, in place.
func prepareJobs(jobs []Job, now time.Time) error {
	now = utc(now)
	for i := range jobs {
		j := &jobs[i]
		if j.ID == "" {
			j.ID = NewID(JobIDPrefix, now)
		}
		name := j.ID
		switch {
		case len(j.ID) > 200:
			return fmt.Errorf("store: job %d: ID longer than 200 bytes", i)
		case !j.Kind.Valid():
			return fmt.Errorf("store: job %s: kind %q, want callout, email or note", name, j.Kind)
		case j.MaxAttempts < 1:
			return fmt.Errorf("store: job %s: max attempts must be at least 1, got %d", name, j.MaxAttempts)
		}
		if j.CreatedAt.IsZero() {
			j.CreatedAt = now
		}
		j.CreatedAt = utc(j.CreatedAt)
		if j.NextAt.IsZero() {
			j.NextAt = j.CreatedAt
		}
		j.NextAt = utc(j.NextAt)
		j.UpdatedAt = j.CreatedAt
		j.Status = StatusPending
		j.Attempts = 0
		j.LastStatusCode, j.LastError = 0, ""
		j.FirstAttemptAt, j.LastAttemptAt = time.Time{}, time.Time{}
		j.LeaseOwner, j.LeaseUntil = "", time.Time{}
		if j.Payload == nil {
			j.Payload = []byte{}
		}
	}
	for i := range jobs {
		for k := i + 1; k < len(jobs); k++ {
			if jobs[i].ID == jobs[k].ID {
				return fmt.Errorf("store: job %s: %w ID in one batch", jobs[i].ID, ErrDuplicate)
			}
		}
		if i > 64 { // long batches: leave the rest to the primary key
			break
		}
	}
	return nil
}

// insertChunk bounds the rows of one multi-row INSERT (SQLite allows 32,766
// parameters per statement, PostgreSQL 65,535).
const insertChunk = 128

// rowLease is the lease a job is inserted with (EnqueueLeased): held by owner for
// lease from now on the lease clock (the database's on PostgreSQL, until on
// SQLite). The zero rowLease inserts the job unleased.
type rowLease struct {
	owner string
	lease time.Duration
	until time.Time // now + lease on the caller's clock
}

// insertJobs inserts prepared jobs with multi-row INSERTs. A taken ID aborts: it is
// returned as the error (wrapping ErrDuplicate) so the transaction rolls back and
// none of the jobs is stored. When again is set (the write runs again after a COMMIT
// whose outcome is unknown) it is idempotent by job ID: an ID taken by an identical
// job — this very write, committed — counts as inserted. leases[i], when leases is
// not nil, is the lease jobs[i] is inserted with.
func (s *Store) insertJobs(ctx context.Context, t tx, jobs []Job, leases []rowLease, again bool) error {
	return s.writeJobs(ctx, t, jobs, leases, true, again)
}

// writeJobs is insertJobs; without check it inserts with plain INSERTs, so a
// taken ID fails the statement with the database's unique-constraint error.
func (s *Store) writeJobs(ctx context.Context, t tx, jobs []Job, leases []rowLease, check bool, again ...bool) error {
	retry := len(again) > 0 && again[0]
	dbClock := s.dbLeaseClock()
	for len(jobs) > 0 {
		n := min(len(jobs), insertChunk)
		chunk := jobs[:n]
		jobs = jobs[n:]
		var chunkLeases []rowLease
		if leases != nil {
			chunkLeases, leases = leases[:n], leases[n:]
		}
		var q strings.Builder
		var args []any
		if s.db.driver() == DriverPostgres {
			args = pgInsertJobs(&q, chunk, chunkLeases, dbClock)
		} else {
			args = valuesInsertJobs(&q, chunk, chunkLeases)
		}
		if !check {
			// Nothing is read back: on PostgreSQL the insert waits to go with
			// the transaction's next statement or its COMMIT (execLater).
			if err := execLater(ctx, t, q.String(), args...); err != nil {
				return err
			}
			if err := s.applyCounts(ctx, t, insertedCounts(chunk, nil)); err != nil {
				return err
			}
			continue
		}
		q.WriteString(" ON CONFLICT (id) DO NOTHING RETURNING id")
		r, err := t.query(ctx, q.String(), args...)
		if err != nil {
			return err
		}
		inserted := make(map[string]bool, len(chunk))
		for r.Next() {
			var id string
			if err := r.Scan(&id); err != nil {
				r.Close()
				return err
			}
			inserted[id] = true
		}
		if err := r.Close(); err != nil {
			return err
		}
		if err := s.applyCounts(ctx, t, insertedCounts(chunk, inserted)); err != nil {
			return err
		}
		if len(inserted) != len(chunk) {
			for _, j := range chunk {
				if inserted[j.ID] {
					continue
				}
				if !retry {
					return fmt.Errorf("store: job %s: %w ID", j.ID, ErrDuplicate)
				}
				if err := sameJobStored(ctx, t, j); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// insertedCounts is the change to callout_counts of inserting chunk, pending —
// only the jobs in inserted when it is not nil.
func insertedCounts(chunk []Job, inserted map[string]bool) countChanges {
	var c countChanges
	for _, j := range chunk {
		if j.Kind == KindCallout && (inserted == nil || inserted[j.ID]) {
			c.add(j.Callout, StatusPending, 1, j.ID)
		}
	}
	return c
}

// valuesInsertJobs writes to q a multi-row INSERT of chunk with one VALUES row of
// parameters a job (SQLite), and returns its arguments; leases[i], when leases is
// not nil, is the lease of chunk[i], on the caller's clock.
func valuesInsertJobs(q *strings.Builder, chunk []Job, chunkLeases []rowLease) []any {
	q.WriteString(`INSERT INTO jobs (id, kind, callout, rule, form, entry_id, event_kind, payload, parent_id,
	status, attempts, max_attempts, retry_budget, next_at, created_at, updated_at, lease_owner, lease_until) VALUES `)
	args := make([]any, 0, 17*len(chunk))
	for i, j := range chunk {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)")
		var l rowLease
		if chunkLeases != nil {
			l = chunkLeases[i]
		}
		var until any // NULL: not leased
		if l.owner != "" {
			until = l.until
		}
		args = append(args, j.ID, string(j.Kind), j.Callout, j.Rule, j.Form, j.EntryID, j.EventKind, j.Payload, j.ParentID,
			string(StatusPending), j.MaxAttempts, j.MaxAttempts, j.NextAt, j.CreatedAt, j.UpdatedAt, l.owner, until)
	}
	return args
}

// pgInsertJobs writes to q the INSERT of chunk on PostgreSQL — one array a
// column, unnested, so the statement text is the same for every group and pgx
// prepares it once, and PostgreSQL parses no VALUES list of 17 parameters a row —
// and returns its arguments. With dbClock the lease runs on the database's clock
// (see Claim): lease_until is now() plus the lease, NULL when not leased.
func pgInsertJobs(q *strings.Builder, chunk []Job, chunkLeases []rowLease, dbClock bool) []any {
	n := len(chunk)
	ids, kinds, callouts, ruleNames := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	forms, entries, events, parents, owners := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	payloads := make([][]byte, n)
	maxAttempts := make([]int32, n)
	nexts, created, updated := make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
	leaseUS := make([]pgtype.Int8, n)
	untils := make([]pgtype.Timestamptz, n)
	for i, j := range chunk {
		ids[i], kinds[i], callouts[i], ruleNames[i] = j.ID, string(j.Kind), j.Callout, j.Rule
		forms[i], entries[i], events[i], parents[i] = j.Form, j.EntryID, j.EventKind, j.ParentID
		payloads[i] = j.Payload
		if payloads[i] == nil {
			payloads[i] = []byte{}
		}
		maxAttempts[i] = int32(j.MaxAttempts)
		nexts[i], created[i], updated[i] = j.NextAt, j.CreatedAt, j.UpdatedAt
		if chunkLeases != nil && chunkLeases[i].owner != "" {
			l := chunkLeases[i]
			owners[i] = l.owner
			leaseUS[i] = pgtype.Int8{Int64: l.lease.Microseconds(), Valid: true}
			untils[i] = pgtype.Timestamptz{Time: utc(l.until), Valid: true}
		}
	}
	until := "r.until"
	leaseArg := any(untils)
	leaseType := "TIMESTAMPTZ[]"
	if dbClock {
		until = "now() + r.until * INTERVAL '1 microsecond'"
		leaseArg, leaseType = leaseUS, "BIGINT[]"
	}
	q.WriteString(`INSERT INTO jobs (id, kind, callout, rule, form, entry_id, event_kind, payload, parent_id,
	status, attempts, max_attempts, retry_budget, next_at, created_at, updated_at, lease_owner, lease_until)
SELECT r.id, r.kind, r.callout, r.rule, r.form, r.entry_id, r.event_kind, r.payload, r.parent_id,
	'pending', 0, r.max_attempts, r.max_attempts, r.next_at, r.created_at, r.updated_at, r.owner, ` + until + `
FROM unnest(CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]),
	CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS BYTEA[]), CAST(? AS TEXT[]), CAST(? AS INTEGER[]),
	CAST(? AS TIMESTAMPTZ[]), CAST(? AS TIMESTAMPTZ[]), CAST(? AS TIMESTAMPTZ[]), CAST(? AS TEXT[]), CAST(? AS ` + leaseType + `))
	AS r (id, kind, callout, rule, form, entry_id, event_kind, payload, parent_id, max_attempts,
	next_at, created_at, updated_at, owner, until)`)
	return []any{ids, kinds, callouts, ruleNames, forms, entries, events, payloads, parents, maxAttempts,
		nexts, created, updated, owners, leaseArg}
}

// sameJobStored returns nil if the job stored under j.ID is j as Enqueue wrote it
// (its own earlier, committed write), else an error wrapping ErrDuplicate. The
// status and times are not compared: a dispatcher may already have worked on it.
func sameJobStored(ctx context.Context, t tx, j Job) error {
	var got Job
	ok, err := queryRow(ctx, t, `SELECT kind, callout, rule, form, entry_id, event_kind, payload, parent_id, max_attempts FROM jobs WHERE id = ?`,
		[]any{j.ID}, &got.Kind, &got.Callout, &got.Rule, &got.Form, &got.EntryID, &got.EventKind, &got.Payload, &got.ParentID, &got.MaxAttempts)
	switch {
	case err != nil:
		return err
	case !ok: // taken by a row deleted since (a purge): not ours either
		return fmt.Errorf("store: job %s: %w ID", j.ID, ErrDuplicate)
	case got.Kind != j.Kind || got.Callout != j.Callout || got.Rule != j.Rule || got.Form != j.Form || got.EntryID != j.EntryID ||
		got.EventKind != j.EventKind || !bytes.Equal(got.Payload, j.Payload) || got.ParentID != j.ParentID || got.MaxAttempts != j.MaxAttempts:
		return fmt.Errorf("store: job %s: %w ID (held by a different job)", j.ID, ErrDuplicate)
	}
	return nil
}

// Enqueue stores jobs as pending. It returns only when they are durably committed
// (see Open for the SQLite synchronous setting), or with an error, in which case
// none of them is stored.
//
// Zero IDs (NewID with JobIDPrefix), NextAt (now) and CreatedAt (now) are filled
// in and the store-maintained fields reset, in jobs itself, so the caller learns the
// IDs. A job ID that is already stored fails the call with ErrDuplicate.
//
// Concurrent Enqueue calls share transactions (group commit); each gets its own
// error. If ctx ends while the call waits, it returns ctx.Err() and the jobs may or
// may not have been stored.
func (s *Store) Enqueue(ctx context.Context, jobs []Job) error {
	if len(jobs) == 0 {
		return nil
	}
	if err := prepareJobs(jobs, time.Now()); err != nil {
		return err
	}
	return s.enqueue(ctx, &insertSpec{jobs: append([]Job(nil), jobs...)})
}

// EnqueueLeased is Enqueue for jobs the caller will attempt itself: they are
// inserted already leased to owner for lease (from now; on PostgreSQL from the
// database's now(), as Claim does), so no claim has to find them. The caller hands
// them to its workers from memory once EnqueueLeased returns, and settles them like
// claimed jobs; if it dies instead, the lease expires and any node claims them. The
// jobs' LeaseOwner and LeaseUntil (on the caller's clock) are set in jobs.
//
// hist is stored in the same transaction, as by EnqueueHistory.
func (s *Store) EnqueueLeased(ctx context.Context, jobs []Job, hist []HistoryRecord, owner string, lease time.Duration, now time.Time) error {
	switch {
	case owner == "":
		return errors.New("store: enqueue leased: empty owner")
	case lease <= 0:
		return fmt.Errorf("store: enqueue leased: lease must be positive, got %v", lease)
	}
	if len(jobs) == 0 && len(hist) == 0 {
		return nil
	}
	if err := prepareJobs(jobs, now); err != nil {
		return err
	}
	if err := prepareHistory(hist, now); err != nil {
		return err
	}
	until := utc(utc(now).Add(lease))
	leases := make([]rowLease, len(jobs))
	for i := range jobs {
		jobs[i].LeaseOwner, jobs[i].LeaseUntil = owner, until
		leases[i] = rowLease{owner: owner, lease: lease, until: until}
	}
	return s.enqueue(ctx, &insertSpec{jobs: append([]Job(nil), jobs...), leases: leases, hist: append([]HistoryRecord(nil), hist...)})
}

// insertSpec is one Enqueue's rows: prepared jobs, when not nil the lease each is
// inserted with, and the history records written with them (EnqueueHistory).
type insertSpec struct {
	jobs   []Job
	leases []rowLease
	hist   []HistoryRecord
}

// enqueue queues the insert of spec and waits for its commit. Idempotent by job
// ID: after a COMMIT whose reply was lost the committer runs the insert again, and
// it finds the rows that did commit. In a group commit the committer merges it
// with the other inserts of the group (mergeInserts).
func (s *Store) enqueue(ctx context.Context, spec *insertSpec) error {
	o := &op{ctx: ctx, weight: len(spec.jobs) + len(spec.hist), idempotent: true, insert: spec, done: make(chan error, 1)}
	o.fn = func(ctx context.Context, t tx) (error, error) {
		if err := s.insertJobs(ctx, t, spec.jobs, spec.leases, o.again); err != nil {
			return nil, err
		}
		return nil, insertHistory(ctx, t, spec.hist)
	}
	return s.committer.submit(o)
}

// mergeInserts is the committer's merge: the rows of several Enqueue calls in
// multi-row INSERTs without RETURNING. A taken ID — in the table or twice among
// the calls — fails the statement and so the group, whose calls then run alone and
// each learns its own result.
func (s *Store) mergeInserts(ctx context.Context, t tx, specs []*insertSpec) error {
	n := 0
	for _, sp := range specs {
		n += len(sp.jobs)
	}
	jobs := make([]Job, 0, n)
	leases := make([]rowLease, 0, n)
	var hist []HistoryRecord
	for _, sp := range specs {
		jobs = append(jobs, sp.jobs...)
		hist = append(hist, sp.hist...)
		if sp.leases != nil {
			leases = append(leases, sp.leases...)
		} else {
			for range sp.jobs {
				leases = append(leases, rowLease{})
			}
		}
	}
	if err := s.writeJobs(ctx, t, jobs, leases, false); err != nil {
		return err
	}
	return insertHistory(ctx, t, hist)
}

// Claim leases up to limit due jobs to owner for lease and returns them, oldest
// due first. A job is due when it is pending, its NextAt is not after now, and it is
// not leased or its lease has expired (a crashed owner's jobs are taken over this
// way). The caller must settle each job with Complete, Reschedule, Fail or Settle,
// or give it back with Release, before the lease ends; a long attempt may Extend
// its lease first.
//
// Lease times come from the database's clock on PostgreSQL (now()), so a node whose
// clock is skewed can neither take over a live lease early nor keep an expired one;
// SQLite, one machine, uses now. Job.LeaseUntil is on that clock: a caller measures
// its own deadline from before the call (see Extend).
//
// On PostgreSQL claims use FOR UPDATE SKIP LOCKED, so any number of nodes can
// claim at once without taking the same job; on SQLite the claim is one UPDATE …
// RETURNING in an immediate transaction.
func (s *Store) Claim(ctx context.Context, owner string, limit int, lease time.Duration, now time.Time) ([]Job, error) {
	switch {
	case owner == "":
		return nil, errors.New("store: claim: empty owner")
	case limit <= 0:
		return nil, fmt.Errorf("store: claim: limit must be positive, got %d", limit)
	case lease <= 0:
		return nil, fmt.Errorf("store: claim: lease must be positive, got %v", lease)
	}
	if s.committer.isClosed() {
		return nil, ErrClosed
	}
	now = utc(now)
	until, clock, leaseArgs := s.leaseTimes(lease, now)
	q := `UPDATE jobs SET lease_owner = ?, lease_until = ` + until + `, updated_at = ?
WHERE id IN (
	SELECT id FROM jobs
	WHERE status = 'pending' AND next_at <= ? AND (lease_until IS NULL OR lease_until <= ` + clock + `)
	ORDER BY next_at, id
	LIMIT ?` + s.db.lockSuffix() + `)
RETURNING ` + jobColumns
	args := append([]any{owner}, leaseArgs.until...)
	args = append(args, now, now)
	args = append(args, leaseArgs.clock...)
	args = append(args, limit)
	// The claim rides the group commit with the enqueues and settles queued beside
	// it: on SQLite's single writer that is one transaction and one fsync for all.
	var jobs []Job
	err := s.committer.do(ctx, 1, func(ctx context.Context, t tx) (error, error) {
		var err error
		jobs, err = queryAll(ctx, t, scanJob, q, args...)
		return nil, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim: %w", err)
	}
	sortJobsByDue(jobs)
	return jobs, nil
}

// leaseArgs are the query arguments of the expressions leaseTimes returns.
type leaseArgs struct{ until, clock []any }

// leaseTimes returns the SQL for "the lease ends lease from now" and "now" on the
// lease clock, with their arguments: the database's now() on PostgreSQL, the
// caller's now on SQLite.
func (s *Store) leaseTimes(lease time.Duration, now time.Time) (until, clock string, args leaseArgs) {
	if s.dbLeaseClock() {
		return "now() + CAST(? AS BIGINT) * INTERVAL '1 microsecond'", "now()",
			leaseArgs{until: []any{lease.Microseconds()}}
	}
	return "?", "?", leaseArgs{until: []any{utc(now.Add(lease))}, clock: []any{now}}
}

// dbLeaseClock reports whether lease times come from the database's clock: on
// PostgreSQL, unless a test of this package asked for the caller's clock.
func (s *Store) dbLeaseClock() bool {
	return s.db.driver() == DriverPostgres && !s.callerLeaseClock
}

// Extend renews owner's lease on job id to last lease from now (the database's
// now() on PostgreSQL), so an attempt longer than the lease it was claimed with
// still ends inside its lease. It fails with ErrLeaseLost if owner no longer holds
// the job (its lease expired and another owner took it, or it was settled) and with
// ErrNotFound if there is no such job; a lease that has expired but was not taken
// over is renewed. A caller that cannot extend must not start the attempt.
func (s *Store) Extend(ctx context.Context, id, owner string, lease time.Duration, now time.Time) error {
	switch {
	case owner == "":
		return errors.New("store: extend: empty owner")
	case lease <= 0:
		return fmt.Errorf("store: extend: lease must be positive, got %v", lease)
	}
	if s.committer.isClosed() {
		return ErrClosed
	}
	until, _, leaseArgs := s.leaseTimes(lease, utc(now))
	q := `UPDATE jobs SET lease_until = ` + until + `
WHERE id = ? AND lease_owner = ? AND status = 'pending'`
	args := append(append([]any(nil), leaseArgs.until...), id, owner)
	err := s.committer.do(ctx, 1, func(ctx context.Context, t tx) (error, error) {
		n, err := t.exec(ctx, q, args...)
		if err != nil || n > 0 {
			return nil, err
		}
		return unsettled(ctx, t, id)
	})
	if err != nil && !errors.Is(err, ErrLeaseLost) && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("store: extend %s: %w", id, err)
	}
	return err
}

// sortJobsByDue orders claimed jobs by due time, then ID (RETURNING order is
// unspecified; IDs are monotonic, so equal due times keep enqueue order).
func sortJobsByDue(jobs []Job) {
	slices.SortFunc(jobs, func(a, b Job) int {
		if c := a.NextAt.Compare(b.NextAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// Outcome is how one attempt of a claimed job ended, for Settle.
type Outcome struct {
	ID      string
	Status  Status    // delivered, failed, or pending to try again at NextAt
	NextAt  time.Time // for StatusPending: when to try again
	Attempt Attempt   // the attempt just made; StartedAt must be set
	Follow  []Job     // jobs to enqueue with the outcome (the notification e-mail)
	// Breaker, if set, is applied to its endpoint's circuit breaker in the same
	// transaction (breaker.go).
	Breaker *BreakerReport
	// Registration, for a register or deregister call, is the installation's new
	// registration state, written with the outcome (see registrations.go).
	Registration *RegistrationUpdate
}

// Complete records a successful attempt of a job owner holds, marks the job
// delivered, releases the lease and enqueues follow (the notification), all in one
// transaction. It fails with ErrLeaseLost if owner no longer holds the lease and with
// ErrNotFound if there is no such job; then nothing is written.
func (s *Store) Complete(ctx context.Context, id, owner string, a Attempt, follow []Job) error {
	return s.settleOne(ctx, owner, Outcome{ID: id, Status: StatusDelivered, Attempt: a, Follow: follow})
}

// Reschedule records a failed attempt of a job owner holds and releases the job
// until next, when it becomes due again. Errors are those of Complete.
func (s *Store) Reschedule(ctx context.Context, id, owner string, a Attempt, next time.Time) error {
	return s.settleOne(ctx, owner, Outcome{ID: id, Status: StatusPending, NextAt: next, Attempt: a})
}

// Fail records the last attempt of a job owner holds and marks the job failed
// (retries exhausted or a permanent error), enqueuing follow in the same
// transaction. Errors are those of Complete.
func (s *Store) Fail(ctx context.Context, id, owner string, a Attempt, follow []Job) error {
	return s.settleOne(ctx, owner, Outcome{ID: id, Status: StatusFailed, Attempt: a, Follow: follow})
}

func (s *Store) settleOne(ctx context.Context, owner string, o Outcome) error {
	res, err := s.Settle(ctx, owner, []Outcome{o})
	if err != nil {
		return err
	}
	return res[0]
}

// Settle records several outcomes of jobs owner holds in one transaction: the batch
// form of Complete, Reschedule and Fail for a dispatcher that claims many jobs at a
// time. results[i] is nil, ErrLeaseLost or ErrNotFound (wrapped) for outs[i]; an
// outcome with such a result writes nothing, the others are still recorded. A
// non-nil err means nothing was written.
//
// Follow-up jobs are prepared as by Enqueue (their zero IDs are filled in, in
// outs[i].Follow). Concurrent Settle calls, like Enqueue calls, share commits.
func (s *Store) Settle(ctx context.Context, owner string, outs []Outcome) (results []error, err error) {
	if owner == "" {
		return nil, errors.New("store: settle: empty owner")
	}
	own := make([]Outcome, len(outs))
	weight := 0
	seen := make(map[string]bool, len(outs))
	for i, o := range outs {
		if err := checkOutcome(o); err != nil {
			return nil, err
		}
		if seen[o.ID] {
			return nil, fmt.Errorf("store: job %s: settled twice in one call", o.ID)
		}
		seen[o.ID] = true
		if err := prepareJobs(o.Follow, o.Attempt.StartedAt.Add(o.Attempt.Duration)); err != nil {
			return nil, err
		}
		own[i] = o
		own[i].Follow = append([]Job(nil), o.Follow...)
		weight += 1 + len(o.Follow)
	}
	results = make([]error, len(own))
	var bt breakerTx
	err = s.committer.do(ctx, weight, func(ctx context.Context, t tx) (error, error) {
		// The op may run twice (alone, after a failed group commit): it must not
		// consume own.
		var follow []Job
		var regs []RegistrationUpdate
		if err := bt.prefetch(ctx, t, own); err != nil {
			return nil, err
		}
		for start := 0; start < len(own); start += insertChunk {
			chunk := own[start:min(len(own), start+insertChunk)]
			res, err := s.settleChunk(ctx, t, owner, chunk)
			if err != nil {
				return nil, err
			}
			for i, o := range chunk {
				results[start+i] = res[i]
				if res[i] == nil {
					follow = append(follow, o.Follow...)
					if o.Registration != nil {
						regs = append(regs, *o.Registration)
					}
				}
			}
		}
		opened, err := bt.apply(ctx, s, t, own, results)
		if err != nil {
			return nil, err
		}
		follow = append(follow, opened...)
		if err := updateRegistrations(ctx, t, regs); err != nil {
			return nil, err
		}
		// A follow-up whose ID is taken fails the whole call: outcomes must not
		// half-apply.
		return nil, s.insertJobs(ctx, t, follow, nil, false)
	})
	if err != nil {
		return nil, err
	}
	s.breakerChanged(bt.transitions)
	return results, nil
}

func checkOutcome(o Outcome) error {
	switch {
	case o.ID == "":
		return errors.New("store: settle: empty job ID")
	case o.Status != StatusDelivered && o.Status != StatusFailed && o.Status != StatusPending:
		return fmt.Errorf("store: job %s: settle: status %q, want delivered, failed or pending", o.ID, o.Status)
	case o.Status == StatusPending && o.NextAt.IsZero():
		return fmt.Errorf("store: job %s: reschedule: zero next time", o.ID)
	case o.Attempt.StartedAt.IsZero():
		return fmt.Errorf("store: job %s: attempt without a start time", o.ID)
	case o.Attempt.Duration < 0:
		return fmt.Errorf("store: job %s: attempt with negative duration %v", o.ID, o.Attempt.Duration)
	}
	return nil
}

// How attempts are kept (migration 006_lean_rows). The last attempt of a job is
// in its jobs row: last_attempt_at (its start), last_duration_us, last_status_code,
// last_error and last_response. Settling the next attempt first copies that one
// into job_attempts (keepLastAttempts), then overwrites the row with the new one.
// A delivery that succeeds at its first attempt — nearly all of them — so writes
// one row update and no attempt row. Get puts the jobs row's attempt after those of
// job_attempts unless job_attempts holds it already (rows written before 006 kept
// every attempt there).

// settleChunk records the outcomes outs (distinct IDs) inside t with set-based
// statements: one that moves the jobs' previous attempts to job_attempts and one
// UPDATE … FROM unnest(arrays) on PostgreSQL (one round trip for both, as a
// data-modifying WITH). The status test is written (status = 'pending') IS TRUE,
// which no index serves, so that PostgreSQL finds each job by its primary key:
// with status = 'pending' the planner, trusting statistics that say few jobs are
// pending, scanned jobs_open_id for every pending entry — and that partial index
// keeps the dead entries of every settled job until VACUUM, so each settle read
// a number of entries growing with the jobs settled since (measured: 47 ms for a
// settle of 256 after 20,000 deliveries, 11 ms by primary key). On SQLite,
// where a statement costs no round trip, one cached single-row UPDATE per outcome
// beats the join. A lost lease or a missing
// job is a result (ErrLeaseLost, ErrNotFound) and writes nothing.
func (s *Store) settleChunk(ctx context.Context, t tx, owner string, outs []Outcome) (results []error, err error) {
	if s.db.driver() == DriverSQLite {
		return s.settleRows(ctx, t, owner, outs)
	}
	// The outcomes go as one array a column, unnested: one statement text whatever
	// the batch's size, so pgx prepares it once and PostgreSQL does not parse and
	// plan a VALUES list of 9 parameters a row at every settle.
	n := len(outs)
	ids, statuses, errs := make([]string, n), make([]string, n), make([]string, n)
	nexts := make([]pgtype.Timestamptz, n) // NULL keeps next_at
	codes := make([]int32, n)
	starts, ends := make([]time.Time, n), make([]time.Time, n)
	durs := make([]int64, n)
	resps := make([][]byte, n)
	for i, o := range outs {
		a := o.Attempt
		ids[i], statuses[i], errs[i] = o.ID, string(o.Status), a.Error
		if o.Status == StatusPending {
			nexts[i] = pgtype.Timestamptz{Time: utc(o.NextAt), Valid: true}
		}
		codes[i] = int32(a.StatusCode)
		starts[i], ends[i] = utc(a.StartedAt), utc(a.StartedAt.Add(a.Duration))
		durs[i] = a.Duration.Microseconds()
		resps[i] = clipResponse(a.Response)
		if resps[i] == nil {
			resps[i] = []byte{} // an empty bytea, not NULL
		}
	}
	args := []any{ids, statuses, nexts, codes, errs, starts, ends, durs, resps, owner, owner}
	// pgx prepares the settle once a connection, and after five runs PostgreSQL
	// may keep a generic plan. On a young jobs table, whose statistics say it is
	// nearly empty, that plan is a sequential scan of jobs joined by nested loop to
	// the unnested arrays, and it stays chosen as the table grows: measured with
	// auto_explain, 8.9 ms a settle instead of 3 by primary key, in some runs
	// and not others (most of the bench's run-to-run spread on PostgreSQL). With
	// sequential scans off for the statement the planner takes jobs_pkey for
	// every plan, generic or custom; the setting is restored after it, and both
	// SETs travel in the pipeline with the statements, so cost no round trip.
	if err := execLater(ctx, t, "SET LOCAL enable_seqscan = off"); err != nil {
		return nil, err
	}
	r, err := t.query(ctx, pgSettleQuery, args...)
	if err != nil {
		return nil, err
	}
	got := make(map[string]bool, len(outs))
	for r.Next() {
		var id string
		if err := r.Scan(&id); err != nil {
			r.Close()
			return nil, err
		}
		got[id] = true
	}
	if err := r.Close(); err != nil {
		return nil, err
	}
	if err := execLater(ctx, t, "SET LOCAL enable_seqscan TO DEFAULT"); err != nil {
		return nil, err
	}
	results = make([]error, len(outs))
	for i, o := range outs {
		if got[o.ID] {
			continue
		}
		if results[i], err = unsettled(ctx, t, o.ID); err != nil {
			return nil, err
		}
	}
	return results, nil
}

// pgSettleQuery is the settle of settleChunk on PostgreSQL. Its parameters
// are the outcomes' nine arrays (id, status, next_at or NULL, status code,
// error, start, end, duration in µs, response) and the lease owner twice.
const pgSettleQuery = `WITH v AS (SELECT * FROM unnest(CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TIMESTAMPTZ[]),
	CAST(? AS INTEGER[]), CAST(? AS TEXT[]), CAST(? AS TIMESTAMPTZ[]), CAST(? AS TIMESTAMPTZ[]), CAST(? AS BIGINT[]),
	CAST(? AS BYTEA[])) AS v (id, status, next, code, err, started, ended, dur, resp)),
kept AS (
	INSERT INTO job_attempts (job_id, n, started_at, duration_us, status_code, error, response)
	SELECT j.id, j.attempts, j.last_attempt_at, j.last_duration_us, j.last_status_code, j.last_error, j.last_response
	FROM jobs j JOIN v ON j.id = v.id
	WHERE j.attempts > 0 AND (j.status = 'pending') IS TRUE AND j.lease_owner = ?
	ON CONFLICT (job_id, n) DO NOTHING)
UPDATE jobs SET status = v.status, attempts = attempts + 1, next_at = COALESCE(v.next, next_at),
	last_status_code = v.code, last_error = v.err, first_attempt_at = COALESCE(first_attempt_at, v.started),
	last_attempt_at = v.started, last_duration_us = v.dur, last_response = v.resp,
	lease_owner = '', lease_until = NULL, updated_at = v.ended
FROM v
WHERE jobs.id = v.id AND (jobs.status = 'pending') IS TRUE AND jobs.lease_owner = ?
RETURNING jobs.id`

// settleRows is settleChunk on SQLite: one statement reads the jobs the chunk
// settles, one keeps the previous attempts of those that have any (none on a
// first attempt, the usual case, and then it does not run), then one cached
// single-row UPDATE per outcome.
func (s *Store) settleRows(ctx context.Context, t tx, owner string, outs []Outcome) (results []error, err error) {
	ids := make([]any, len(outs), len(outs)+1)
	for i, o := range outs {
		ids[i] = o.ID
	}
	settling, err := settlingJobs(ctx, t, owner, ids)
	if err != nil {
		return nil, err
	}
	var attempted []any
	for id, j := range settling {
		if j.attempted {
			attempted = append(attempted, id)
		}
	}
	if len(attempted) > 0 {
		q := `INSERT INTO job_attempts (job_id, n, started_at, duration_us, status_code, error, response)
SELECT id, attempts, last_attempt_at, last_duration_us, last_status_code, last_error, last_response
FROM jobs WHERE id IN ` + placeholders(len(attempted)) + ` AND attempts > 0 AND status = 'pending' AND lease_owner = ?
ON CONFLICT (job_id, n) DO NOTHING`
		if _, err := t.exec(ctx, q, append(attempted, owner)...); err != nil {
			return nil, err
		}
	}
	results = make([]error, len(outs))
	var counts countChanges
	for i, o := range outs {
		a := o.Attempt
		var next any // NULL keeps next_at
		if o.Status == StatusPending {
			next = utc(o.NextAt)
		}
		n, err := t.exec(ctx, `UPDATE jobs SET status = ?, attempts = attempts + 1, next_at = COALESCE(?, next_at),
	last_status_code = ?, last_error = ?, first_attempt_at = COALESCE(first_attempt_at, ?), last_attempt_at = ?,
	last_duration_us = ?, last_response = ?, lease_owner = '', lease_until = NULL, updated_at = ?
WHERE id = ? AND status = 'pending' AND lease_owner = ?`,
			string(o.Status), next, a.StatusCode, a.Error, utc(a.StartedAt), utc(a.StartedAt),
			a.Duration.Microseconds(), clipResponse(a.Response), utc(a.StartedAt.Add(a.Duration)), o.ID, owner)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			if j := settling[o.ID]; j.kind == KindCallout {
				counts.move(j.callout, StatusPending, o.Status, 1)
			}
			continue
		}
		if results[i], err = unsettled(ctx, t, o.ID); err != nil {
			return nil, err
		}
	}
	return results, s.applyCounts(ctx, t, counts)
}

// settlingJob is what a settle on SQLite reads of a job before it updates it.
type settlingJob struct {
	kind      Kind
	callout   string
	attempted bool // it has an attempt recorded in its row, to be kept in job_attempts
}

// settlingJobs reads the jobs among ids that the settle's UPDATEs will match:
// pending and leased to owner. It runs in the settle's transaction before them
// (on SQLite's single writer nothing else writes in between), so it reads exactly
// the rows they change — one statement for the chunk, cheaper than a RETURNING
// read for every row.
func settlingJobs(ctx context.Context, t tx, owner string, ids []any) (map[string]settlingJob, error) {
	q := "SELECT id, kind, callout, attempts > 0 FROM jobs WHERE id IN " + placeholders(len(ids)) +
		" AND status = 'pending' AND lease_owner = ?"
	r, err := t.query(ctx, q, append(ids, owner)...)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out := make(map[string]settlingJob, len(ids))
	for r.Next() {
		var id, kind string
		var j settlingJob
		if err := r.Scan(&id, &kind, &j.callout, &j.attempted); err != nil {
			return nil, err
		}
		j.kind = Kind(kind)
		out[id] = j
	}
	return out, r.Err()
}

// clipResponse is the part of a response body an attempt keeps.
func clipResponse(b []byte) []byte {
	if len(b) > MaxResponseBytes {
		return b[:MaxResponseBytes]
	}
	return b
}

// unsettled returns the result for job id when its settling UPDATE matched no
// row: ErrLeaseLost if the job exists, ErrNotFound if not.
func unsettled(ctx context.Context, t tx, id string) (result, err error) {
	var one int
	exists, err := queryRow(ctx, t, "SELECT 1 FROM jobs WHERE id = ?", []any{id}, &one)
	if err != nil {
		return nil, err
	}
	if exists {
		return fmt.Errorf("store: job %s: %w", id, ErrLeaseLost), nil
	}
	return fmt.Errorf("store: job %s: %w", id, ErrNotFound), nil
}

// Release gives back every lease owner holds, e.g. on graceful shutdown, so other
// workers can claim those jobs at once. It returns how many jobs it released.
func (s *Store) Release(ctx context.Context, owner string) (int64, error) {
	if owner == "" {
		return 0, errors.New("store: release: empty owner")
	}
	if s.committer.isClosed() {
		return 0, ErrClosed
	}
	var n int64
	err := writeTx(ctx, s.db, func(t tx) error {
		var err error
		n, err = t.exec(ctx, `UPDATE jobs SET lease_owner = '', lease_until = NULL
WHERE lease_owner = ? AND status = 'pending'`, owner)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: release: %w", err)
	}
	return n, nil
}

// Get returns a job and its attempts, oldest first, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (Job, []Attempt, error) {
	if s.committer.isClosed() {
		return Job{}, nil, ErrClosed
	}
	var job Job
	var atts []Attempt
	err := readTx(ctx, s.db, func(t tx) error {
		var ok bool
		var err error
		job, ok, err = queryOne(ctx, t, scanJob, "SELECT "+jobColumns+" FROM jobs WHERE id = ?", id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("store: job %s: %w", id, ErrNotFound)
		}
		atts, err = queryAll(ctx, t, scanAttempt, `SELECT job_id, n, started_at, duration_us, status_code, error, response
FROM job_attempts WHERE job_id = ? ORDER BY n`, id)
		if err != nil || job.Attempts == 0 || len(atts) > 0 && atts[len(atts)-1].N >= job.Attempts {
			return err
		}
		// The last attempt is in the jobs row (see settleChunk).
		last := Attempt{JobID: job.ID, N: job.Attempts, StartedAt: job.LastAttemptAt, StatusCode: job.LastStatusCode, Error: job.LastError}
		var us int64
		if _, err := queryRow(ctx, t, "SELECT last_duration_us, last_response FROM jobs WHERE id = ?", []any{id}, &us, &last.Response); err != nil {
			return err
		}
		last.Duration = time.Duration(us) * time.Microsecond
		atts = append(atts, last)
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return Job{}, nil, err
		}
		return Job{}, nil, fmt.Errorf("store: get %s: %w", id, err)
	}
	return job, atts, nil
}

// List returns the jobs that match f, in ID order (which is creation order for
// generated IDs). To page, pass the last ID returned as the next Filter.After.
func (s *Store) List(ctx context.Context, f Filter) ([]Job, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, fmt.Errorf("store: list: status %q, want pending, delivered or failed", f.Status)
	}
	if f.Kind != "" && !f.Kind.Valid() {
		return nil, fmt.Errorf("store: list: kind %q, want callout, email or note", f.Kind)
	}
	if s.committer.isClosed() {
		return nil, ErrClosed
	}
	var c conditions
	if f.Status != "" {
		c.add("status = ?", string(f.Status))
		if f.Status != StatusDelivered {
			c.add("status <> 'delivered'") // lets the partial index jobs_open_id serve it
		}
	}
	if f.Kind != "" {
		c.add("kind = ?", string(f.Kind))
	}
	if f.Callout != "" {
		c.add("callout = ?", f.Callout)
	}
	if f.Form != "" {
		c.add("form = ?", f.Form)
	}
	if len(f.Forms) > 0 {
		forms := make([]any, len(f.Forms))
		for i, form := range f.Forms {
			forms[i] = form
		}
		c.add("form IN "+placeholders(len(f.Forms)), forms...)
	}
	if f.EntryID != "" {
		c.add("entry_id = ?", f.EntryID)
	}
	if f.ParentID != "" {
		c.add("parent_id = ?", f.ParentID)
	}
	if f.After != "" {
		c.add("id > ?", f.After)
	}
	q := "SELECT " + jobColumns + " FROM jobs" + c.where() + " ORDER BY id LIMIT ?"
	args := append(c.args, listLimit(f.Limit))
	var jobs []Job
	err := readTx(ctx, s.db, func(t tx) error {
		var err error
		jobs, err = queryAll(ctx, t, scanJob, q, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: list: %w", err)
	}
	return jobs, nil
}

// Retry re-drives a job by hand. A failed job becomes pending again, due at now,
// with its attempt budget renewed (MaxAttempts = Attempts + the MaxAttempts it was
// enqueued with) and its history (attempts, last error) kept. A pending job is made
// due at now (its lease, if any, is kept). A delivered job is left alone:
// ErrDelivered. ErrNotFound if there is no such job.
func (s *Store) Retry(ctx context.Context, id string, now time.Time) error {
	if s.committer.isClosed() {
		return ErrClosed
	}
	now = utc(now)
	err := writeTx(ctx, s.db, func(t tx) error {
		var counts countChanges
		const which = "id = ? AND status <> 'delivered'"
		if err := s.countGroups(ctx, t, &counts, StatusPending, which, id); err != nil {
			return err
		}
		n, err := t.exec(ctx, `UPDATE jobs SET
	max_attempts = CASE WHEN status = 'pending' THEN max_attempts ELSE attempts + retry_budget END,
	status = 'pending', next_at = ?, updated_at = ?
WHERE `+which, now, now, id)
		if err != nil {
			return err
		}
		if n > 0 {
			return s.applyCounts(ctx, t, counts)
		}
		var status string
		found, err := queryRow(ctx, t, "SELECT status FROM jobs WHERE id = ?", []any{id}, &status)
		switch {
		case err != nil:
			return err
		case found:
			return fmt.Errorf("store: job %s: %w", id, ErrDelivered)
		}
		return fmt.Errorf("store: job %s: %w", id, ErrNotFound)
	})
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrDelivered) {
		return fmt.Errorf("store: retry %s: %w", id, err)
	}
	return err
}

// Stats counts the jobs by state as of now.
func (s *Store) Stats(ctx context.Context, now time.Time) (Stats, error) {
	if s.committer.isClosed() {
		return Stats{}, ErrClosed
	}
	now = utc(now)
	var st Stats
	var oldest time.Time
	err := readTx(ctx, s.db, func(t tx) error {
		q := `SELECT status, COUNT(*) FROM jobs GROUP BY status`
		if s.db.driver() == DriverSQLite {
			// No full index holds the status on SQLite (the due index is partial,
			// 010_pending_due.sql): count the open jobs from jobs_open_id and all
			// of them from the smallest index; delivered is the difference.
			q = `SELECT status, COUNT(*) FROM jobs WHERE status <> 'delivered' GROUP BY status
UNION ALL SELECT '', COUNT(*) FROM jobs`
		}
		r, err := t.query(ctx, q)
		if err != nil {
			return err
		}
		var all int64
		sqliteTotal := s.db.driver() == DriverSQLite
		defer r.Close()
		for r.Next() {
			var status string
			var n int64
			if err := r.Scan(&status, &n); err != nil {
				return err
			}
			switch Status(status) {
			case "":
				all = n
			case StatusPending:
				st.Pending = n
			case StatusDelivered:
				st.Delivered = n
			case StatusFailed:
				st.Failed = n
			}
		}
		if err := r.Close(); err != nil {
			return err
		}
		if sqliteTotal {
			st.Delivered = all - st.Pending - st.Failed
		}
		// Leases are judged on the lease clock (see Claim), due times on now.
		_, clock, la := s.leaseTimes(time.Second, now)
		args := append(append(append([]any(nil), la.clock...), now), la.clock...)
		_, err = queryRow(ctx, t, `SELECT
	CAST(COALESCE(SUM(CASE WHEN lease_until IS NOT NULL AND lease_until > `+clock+` THEN 1 ELSE 0 END), 0) AS BIGINT),
	CAST(COALESCE(SUM(CASE WHEN next_at <= ? AND (lease_until IS NULL OR lease_until <= `+clock+`) THEN 1 ELSE 0 END), 0) AS BIGINT),
	MIN(created_at)
FROM jobs WHERE status = 'pending'`, args, &st.Leased, &st.Due, &oldest)
		return err
	})
	if err != nil {
		return Stats{}, fmt.Errorf("store: stats: %w", err)
	}
	if !oldest.IsZero() && now.After(oldest) {
		st.OldestPendingAge = now.Sub(oldest)
	}
	return st, nil
}

// leaseEndOnCallerClock is the SQL expression of a row's lease_until on the
// caller's clock, now, and its arguments: on PostgreSQL, where leases run on the
// database clock, now plus the lease's remaining time; elsewhere lease_until.
func (s *Store) leaseEndOnCallerClock(now time.Time) (expr string, args []any) {
	if s.dbLeaseClock() {
		return "(CAST(? AS TIMESTAMPTZ) + (lease_until - now()))", []any{utc(now)}
	}
	return "lease_until", nil
}

// NextDue returns when the next pending job becomes claimable (its NextAt, or the
// end of its lease if later), and false if no job is pending. A dispatcher sleeps
// until then (or until it enqueues something itself). now is the caller's clock:
// on PostgreSQL, where leases run on the database clock, a lease end is returned as
// now plus the lease's remaining time, so a node with a skewed clock neither
// sleeps through the expiry nor polls in a busy loop.
func (s *Store) NextDue(ctx context.Context, now time.Time) (time.Time, bool, error) {
	if s.committer.isClosed() {
		return time.Time{}, false, ErrClosed
	}
	leaseEnd, args := s.leaseEndOnCallerClock(now)
	var next time.Time
	err := readTx(ctx, s.db, func(t tx) error {
		_, err := queryRow(ctx, t, `SELECT MIN(CASE WHEN lease_until IS NOT NULL AND `+leaseEnd+` > next_at
	THEN `+leaseEnd+` ELSE next_at END) FROM jobs WHERE status = 'pending'`, append(args, args...), &next)
		return err
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: next due: %w", err)
	}
	return next, !next.IsZero(), nil
}

// PendingByCallout counts the pending callout deliveries by callout name, for
// `ruleflow check --store`: a configuration that no longer names a callout (nor
// lists it in renamed_from) would strand them.
func (s *Store) PendingByCallout(ctx context.Context) (map[string]int64, error) {
	if s.committer.isClosed() {
		return nil, ErrClosed
	}
	counts := map[string]int64{}
	err := readTx(ctx, s.db, func(t tx) error {
		from := "jobs"
		if s.db.driver() == DriverSQLite {
			// Without statistics SQLite would rather walk jobs_callout_id, every
			// job, to group without sorting than read the pending ones.
			from = "jobs INDEXED BY jobs_pending_next_at"
		}
		r, err := t.query(ctx, `SELECT callout, COUNT(*) FROM `+from+` WHERE status = 'pending' AND kind = 'callout'
	AND event_kind NOT IN ('`+EventRegister+`', '`+EventDeregister+`') GROUP BY callout`)
		if err != nil {
			return err
		}
		defer r.Close()
		for r.Next() {
			var name string
			var n int64
			if err := r.Scan(&name, &n); err != nil {
				return err
			}
			counts[name] = n
		}
		return r.Close()
	})
	if err != nil {
		return nil, fmt.Errorf("store: pending by callout: %w", err)
	}
	return counts, nil
}

// Purge deletes delivered and failed jobs last updated before cutoff, with their
// attempts, and returns how many jobs it deleted. Pending jobs are never purged.
func (s *Store) Purge(ctx context.Context, cutoff time.Time) (int64, error) {
	if s.committer.isClosed() {
		return 0, ErrClosed
	}
	cutoff = utc(cutoff)
	var n int64
	err := writeTx(ctx, s.db, func(t tx) error {
		const done = `SELECT id FROM jobs WHERE status IN ('delivered', 'failed') AND updated_at < ?`
		if _, err := t.exec(ctx, "DELETE FROM job_attempts WHERE job_id IN ("+done+")", cutoff); err != nil {
			return err
		}
		var counts countChanges
		if err := s.countGroups(ctx, t, &counts, "", "id IN ("+done+")", cutoff); err != nil {
			return err
		}
		var err error
		if n, err = t.exec(ctx, "DELETE FROM jobs WHERE id IN ("+done+")", cutoff); err != nil {
			return err
		}
		return s.applyCounts(ctx, t, counts)
	})
	if err != nil {
		return 0, fmt.Errorf("store: purge: %w", err)
	}
	return n, nil
}
