package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Errors returned by the store. Test for them with errors.Is; the returned errors wrap
// them with the ID concerned.
var (
	// ErrNotFound means no job, webhook, target or callback token has the given key.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate means a unique key is already taken: a job ID, a webhook's
	// (form, events, url), or an active target's name or token.
	ErrDuplicate = errors.New("duplicate")
	// ErrLeaseLost means the caller no longer holds the job's lease: it expired and
	// another owner claimed the job, or the job was already settled.
	ErrLeaseLost = errors.New("lease lost")
	// ErrClosed means the Store has been closed.
	ErrClosed = errors.New("store closed")
	// ErrDelivered means a job was already delivered, so Retry refuses to send it
	// again (receivers would see it twice).
	ErrDelivered = errors.New("already delivered")
)

// Kind is what a job does when it is delivered.
type Kind string

// The job kinds.
const (
	KindCallout Kind = "callout" // an outbound HTTP request rendered by a callout
	KindEmail   Kind = "email"   // a notification e-mail
	KindNote    Kind = "note"    // a ticket note added through the host once its e-mail is sent
)

// Valid reports whether k is one of the defined kinds.
func (k Kind) Valid() bool { return k == KindCallout || k == KindEmail || k == KindNote }

// Status is where a job is in its lifecycle.
type Status string

// The job statuses.
const (
	StatusPending   Status = "pending"   // waiting for its next attempt (or being attempted)
	StatusDelivered Status = "delivered" // an attempt succeeded
	StatusFailed    Status = "failed"    // given up: retries exhausted or a permanent error
)

// Valid reports whether s is one of the defined statuses.
func (s Status) Valid() bool {
	return s == StatusPending || s == StatusDelivered || s == StatusFailed
}

// MaxResponseBytes is how much of a response body an Attempt keeps.
const MaxResponseBytes = 4 << 10

// Job is one outbox entry: a callout delivery or an e-mail notification.
//
// On Enqueue the caller sets Kind, MaxAttempts, Payload and the descriptive fields;
// a zero ID, NextAt or CreatedAt is filled in. The store maintains the rest.
type Job struct {
	ID        string // unique, time-ordered; the HTTP Idempotency-Key of a callout
	Kind      Kind
	Callout   string // the callout's name
	Rule      string // the rule that fired it
	Form      string
	EntryID   string
	EventKind string // the event kind that fired it (create, update, ...)
	Payload   []byte // the rendered request or e-mail; opaque to the store
	ParentID  string // for an e-mail job: the delivery it reports on

	Status      Status
	Attempts    int // attempts made so far
	MaxAttempts int // attempts allowed in total; the engine fails the job when it is reached
	NextAt      time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time

	LastStatusCode int    // HTTP status (or SMTP reply code) of the last attempt; 0 if none
	LastError      string // error of the last attempt; "" if it succeeded
	FirstAttemptAt time.Time
	LastAttemptAt  time.Time

	LeaseOwner string    // who holds the job; "" when not leased
	LeaseUntil time.Time // when the lease expires; zero when not leased
}

// Attempt is one delivery attempt of a job.
type Attempt struct {
	JobID      string // set by the store
	N          int    // 1-based attempt number; set by the store
	StartedAt  time.Time
	Duration   time.Duration
	StatusCode int    // 0 when no response arrived
	Error      string // "" on success
	Response   []byte // the start of the response body, cut to MaxResponseBytes
}

// Filter selects jobs for List. Zero fields do not filter.
type Filter struct {
	Status   Status
	Kind     Kind
	Callout  string
	Form     string
	EntryID  string
	ParentID string
	After    string // a cursor: only jobs whose ID sorts after it
	Limit    int    // at most this many; 0 means 100, larger than 1000 means 1000

	// Forms, when not empty, selects jobs of any of these forms (a form and its
	// former names); Form must then be empty.
	Forms []string
}

// Stats summarises the outbox.
type Stats struct {
	Pending          int64         // jobs not yet settled
	Due              int64         // pending jobs whose next attempt is due and that nobody leases
	Leased           int64         // pending jobs under an unexpired lease
	Delivered        int64         // jobs delivered
	Failed           int64         // jobs given up
	OldestPendingAge time.Duration // age of the oldest pending job; 0 if none
}

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// Logger receives the store's logs; nil means slog.Default().
	Logger *slog.Logger
	// MaxBatch caps the jobs folded into one group commit; 0 means 256.
	MaxBatch int
	// OnBreaker, if set, is called after the commit of every circuit-breaker
	// transition that Settle made (breaker.go), in order, on the settling goroutine.
	OnBreaker func(BreakerTransition)
}

// Store is an open outbox. Create one with Open; it is safe for concurrent use.
type Store struct {
	db        backend
	log       *slog.Logger
	committer *committer
	// callerLeaseClock makes PostgreSQL leases use the now passed by the caller, as
	// on SQLite: only for this package's tests, which drive a fixed clock.
	callerLeaseClock bool
	// countsByTrigger says the SQLite schema's row triggers keep callout_counts
	// (the schema before 012_counts_by_writer.sql): only for this package's
	// benchmarks, which compare the two.
	countsByTrigger bool
	onBreaker       func(BreakerTransition)

	closeOnce sync.Once
	closeErr  error
}

// Open connects to the store named by dsn and brings its schema up to date.
//
// dsn is "sqlite:PATH", "sqlite:///abs/path", "file:PATH" (SQLite; options
// "?synchronous=full|normal|extra&busy_timeout=5s") or "postgres://…" /
// "postgresql://…" (PostgreSQL; every pgx connection-string parameter works, e.g.
// pool_max_conns or search_path). The caller must Close the Store.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return OpenOptions(ctx, dsn, Options{})
}

// OpenOptions is Open with options.
func OpenOptions(ctx context.Context, dsn string, opt Options) (*Store, error) {
	d, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	var db backend
	switch d.Driver {
	case DriverSQLite:
		db, err = openSQLite(ctx, d)
	case DriverPostgres:
		db, err = openPostgres(ctx, d)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", d.Redacted(), err)
	}
	if err := migrate(ctx, db); err != nil {
		db.close()
		return nil, fmt.Errorf("store: migrate %s: %w", d.Redacted(), err)
	}
	max := opt.MaxBatch
	if max <= 0 {
		max = 256
	}
	s := &Store{db: db, log: log.With("store", string(d.Driver)), onBreaker: opt.OnBreaker}
	s.committer = newCommitter(db, max, s.log, s.mergeInserts)
	s.log.Debug("store opened", "dsn", d.Redacted())
	return s, nil
}

// Commits returns how many write transactions this Store has run so far (group
// commits: one per batch of writes, whatever the number of callers in it), for
// benchmarks and metrics.
func (s *Store) Commits() int64 { return s.committer.commits.Load() }

// Driver reports which backend the store uses.
func (s *Store) Driver() Driver { return s.db.driver() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if s.committer.isClosed() {
		return ErrClosed
	}
	if err := s.db.ping(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Close commits the writes already queued, then closes the database connections.
// Calling Close again returns the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.committer.close()
		s.closeErr = s.db.close()
	})
	return s.closeErr
}

// utc normalises t to the precision and zone the store keeps: UTC microseconds.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}
