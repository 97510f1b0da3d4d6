package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgBackend is the PostgreSQL backend: a pgxpool, timestamptz columns, and claims
// with FOR UPDATE SKIP LOCKED so several nodes can share the outbox.
type pgBackend struct {
	pool *pgxpool.Pool
}

func openPostgres(ctx context.Context, d DSN) (backend, error) {
	cfg, err := pgxpool.ParseConfig(d.ConnString)
	if err != nil {
		return nil, err // pgconn redacts the password in its parse errors
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return &pgBackend{pool: pool}, nil
}

func (b *pgBackend) driver() Driver     { return DriverPostgres }
func (b *pgBackend) lockSuffix() string { return " FOR UPDATE SKIP LOCKED" }
func (b *pgBackend) timeType() string   { return "TIMESTAMPTZ" }

func (b *pgBackend) begin(ctx context.Context, write bool) (tx, error) {
	if write {
		c, err := b.pool.Acquire(ctx)
		if err != nil {
			return nil, err
		}
		return &pgWriteTx{c: c, pending: []pgStmt{{sql: "BEGIN"}}}, nil
	}
	t, err := b.pool.BeginTx(ctx, pgx.TxOptions{
		AccessMode: pgx.ReadOnly,
		IsoLevel:   pgx.RepeatableRead, // one snapshot for a job and its attempts
	})
	if err != nil {
		return nil, err
	}
	return &pgTx{t: t}, nil
}

func (b *pgBackend) isUnique(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

func (b *pgBackend) ping(ctx context.Context) error { return b.pool.Ping(ctx) }

func (b *pgBackend) close() error {
	b.pool.Close()
	return nil
}

type pgTx struct{ t pgx.Tx }

func (t *pgTx) commit(ctx context.Context) error { return t.t.Commit(ctx) }

// rollback uses a fresh context: the caller's may be the reason for rolling back.
func (t *pgTx) rollback(ctx context.Context) error {
	return t.t.Rollback(context.WithoutCancel(ctx))
}

func (t *pgTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := t.t.Exec(ctx, dollarPlaceholders(q), pgArgs(args)...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (t *pgTx) query(ctx context.Context, q string, args ...any) (rows, error) {
	r, err := t.t.Query(ctx, dollarPlaceholders(q), pgArgs(args)...)
	if err != nil {
		return nil, err
	}
	return &pgRows{r: r}, nil
}

// pgArgs turns the zero time into NULL and a nil []byte into an empty bytea.
func pgArgs(in []any) []any {
	return convertArgs(in, func(t time.Time) any { return t.UTC() })
}

type pgRows struct {
	r        pgx.Rows
	batch    pgx.BatchResults // the batch r was read from, closed with r (pgWriteTx)
	batchErr error            // the batch's Close error, once closed
}

// Next advances to the next row. After the last it closes the batch the rows
// came from, so the connection is free for the next statement.
func (r *pgRows) Next() bool {
	if r.r.Next() {
		return true
	}
	if r.batch != nil {
		r.batchErr = r.batch.Close()
		r.batch = nil
	}
	return false
}

// Err returns the error that ended the iteration, if any.
func (r *pgRows) Err() error {
	if err := r.r.Err(); err != nil {
		return err
	}
	return r.batchErr
}

// Close releases the result set and returns its error.
func (r *pgRows) Close() error {
	r.r.Close()
	if r.batch != nil {
		r.batchErr = r.batch.Close()
		r.batch = nil
	}
	return r.Err()
}

// Scan reads NULL timestamptz columns into the zero time.
func (r *pgRows) Scan(dest ...any) error {
	return scanTimes(r.r.Scan, dest, func(ts pgtype.Timestamptz) (time.Time, bool) { return ts.Time.UTC(), ts.Valid })
}

// pgWriteTx is a write transaction that saves round trips by pipelining: its
// BEGIN, and the statements queued with later (whose results nobody reads), wait
// on the client and go to the server in one batch with the next statement whose
// result is read, or with the COMMIT. A group commit of inserts alone is so one
// round trip (BEGIN, INSERT jobs, INSERT history, COMMIT) instead of four, and
// one with a settle two or three. The statements of a batch run in order; a
// failing one makes the server skip the rest up to the batch's end, the COMMIT
// included, so the transaction is then known not to have committed.
type pgWriteTx struct {
	c       *pgxpool.Conn // nil once the transaction has ended
	pending []pgStmt
}

// pgStmt is a statement waiting to be sent.
type pgStmt struct {
	sql  string
	args []any
	scan func(rows) error // reads its rows (queryLater); nil: none are read
}

// execLater runs q in t, or, when t pipelines (pgWriteTx), queues it to go with
// the next statement or the COMMIT: for writes whose row count nobody reads and
// whose failure fails the whole transaction anyway (a group's merged inserts).
func execLater(ctx context.Context, t querier, q string, args ...any) error {
	if p, ok := t.(*pgWriteTx); ok {
		p.later(q, args)
		return nil
	}
	_, err := t.exec(ctx, q, args...)
	return err
}

// queryLater runs q in t and reads its rows with scan, or, when t pipelines
// (pgWriteTx), queues it to go with the next statement, whose batch calls scan
// when it reaches q's rows: for a read whose answer is needed only after that
// next statement (the breakers of a Settle, read before its UPDATE). The caller
// learns that scan has run from what scan sets.
func queryLater(ctx context.Context, t querier, q string, scan func(rows) error, args ...any) error {
	if p, ok := t.(*pgWriteTx); ok {
		p.pending = append(p.pending, pgStmt{sql: dollarPlaceholders(q), args: pgArgs(args), scan: scan})
		return nil
	}
	r, err := t.query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := scan(r); err != nil {
		return err
	}
	return r.Close()
}

// errNotCommitted wraps the error of a statement that a pipelined COMMIT was
// queued behind: the server skipped the COMMIT and nothing committed, unlike a
// failed COMMIT, whose outcome is unknown.
type errNotCommitted struct{ err error }

func (e *errNotCommitted) Error() string { return e.err.Error() }
func (e *errNotCommitted) Unwrap() error { return e.err }

// later queues q to be sent with the next statement or the COMMIT. Its error, if
// it fails, is reported by that statement or by commit (as errNotCommitted).
func (t *pgWriteTx) later(q string, args []any) {
	t.pending = append(t.pending, pgStmt{sql: dollarPlaceholders(q), args: pgArgs(args)})
}

// send sends the pending statements and then q in one batch and reads the results
// of the pending ones; the caller reads q's result from the returned batch and
// closes it.
func (t *pgWriteTx) send(ctx context.Context, q string, args []any) (pgx.BatchResults, error) {
	if t.c == nil {
		return nil, pgx.ErrTxClosed
	}
	b := &pgx.Batch{}
	for _, p := range t.pending {
		b.Queue(p.sql, p.args...)
	}
	sent := t.pending
	t.pending = nil
	b.Queue(q, args...)
	br := t.c.SendBatch(ctx, b)
	if err := readPending(br, sent); err != nil {
		br.Close()
		return nil, err
	}
	return br, nil
}

// readPending reads the results of the statements sent from br, in order: the
// rows of a statement queued with queryLater go to its scan.
func readPending(br pgx.BatchResults, sent []pgStmt) error {
	for _, p := range sent {
		if p.scan == nil {
			if _, err := br.Exec(); err != nil {
				return err
			}
			continue
		}
		r, err := br.Query()
		if err != nil {
			return err
		}
		pr := &pgRows{r: r}
		err = p.scan(pr)
		if cerr := pr.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *pgWriteTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	if len(args) == 0 {
		// Maybe several statements (a migration): only the simple protocol, outside
		// a batch, takes them.
		if err := t.flush(ctx); err != nil {
			return 0, err
		}
		tag, err := t.c.Exec(ctx, q)
		if err != nil {
			return 0, err
		}
		return tag.RowsAffected(), nil
	}
	br, err := t.send(ctx, dollarPlaceholders(q), pgArgs(args))
	if err != nil {
		return 0, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// flush sends the pending statements and reads their results.
func (t *pgWriteTx) flush(ctx context.Context) error {
	if t.c == nil {
		return pgx.ErrTxClosed
	}
	if len(t.pending) == 0 {
		return nil
	}
	last := t.pending[len(t.pending)-1]
	t.pending = t.pending[:len(t.pending)-1]
	br, err := t.send(ctx, last.sql, last.args)
	if err != nil {
		return err
	}
	_, err = br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

func (t *pgWriteTx) query(ctx context.Context, q string, args ...any) (rows, error) {
	br, err := t.send(ctx, dollarPlaceholders(q), pgArgs(args))
	if err != nil {
		return nil, err
	}
	r, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return &pgRows{r: r, batch: br}, nil
}

// commit sends what is pending and COMMIT in one batch. An error of a pending
// statement is returned as errNotCommitted (the transaction is rolled back); any
// other error leaves the outcome unknown, as a failed COMMIT does.
func (t *pgWriteTx) commit(ctx context.Context) error {
	if t.c == nil {
		return pgx.ErrTxClosed
	}
	defer t.release()
	if len(t.pending) == 1 && t.pending[0].sql == "BEGIN" {
		return nil // nothing ran: there is nothing to commit
	}
	if len(t.pending) == 0 {
		tag, err := t.c.Exec(ctx, "COMMIT")
		if err == nil && tag.String() == "ROLLBACK" {
			err = pgx.ErrTxCommitRollback // an earlier statement failed and was ignored
		}
		return err
	}
	b := &pgx.Batch{}
	for _, p := range t.pending {
		b.Queue(p.sql, p.args...)
	}
	sent := t.pending
	t.pending = nil
	b.Queue("COMMIT")
	br := t.c.SendBatch(ctx, b)
	if err := readPending(br, sent); err != nil {
		br.Close()
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			// The server refused the statement and skipped the COMMIT.
			t.c.Exec(context.WithoutCancel(ctx), "ROLLBACK")
			return &errNotCommitted{err: err}
		}
		return err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if tag.String() == "ROLLBACK" { // an earlier statement failed and was ignored
		return pgx.ErrTxCommitRollback
	}
	return nil
}

// rollback uses a fresh context: the caller's may be the reason for rolling back.
func (t *pgWriteTx) rollback(ctx context.Context) error {
	if t.c == nil {
		return nil
	}
	defer t.release()
	if len(t.pending) == 1 && t.pending[0].sql == "BEGIN" {
		return nil // BEGIN was never sent
	}
	t.pending = nil
	_, err := t.c.Exec(context.WithoutCancel(ctx), "ROLLBACK")
	return err
}

// release gives the connection back to the pool, which closes it if it is still
// in a transaction (a ROLLBACK that failed, a COMMIT that got no answer).
func (t *pgWriteTx) release() {
	t.c.Release()
	t.c = nil
}
