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
	opts := pgx.TxOptions{}
	if !write {
		opts.AccessMode = pgx.ReadOnly
		opts.IsoLevel = pgx.RepeatableRead // one snapshot for a job and its attempts
	}
	t, err := b.pool.BeginTx(ctx, opts)
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
	r pgx.Rows
}

// Next advances to the next row.
func (r *pgRows) Next() bool { return r.r.Next() }

// Err returns the error that ended the iteration, if any.
func (r *pgRows) Err() error { return r.r.Err() }

// Close releases the result set and returns its error.
func (r *pgRows) Close() error {
	r.r.Close()
	return r.r.Err()
}

// Scan reads NULL timestamptz columns into the zero time.
func (r *pgRows) Scan(dest ...any) error {
	return scanTimes(r.r.Scan, dest, func(ts pgtype.Timestamptz) (time.Time, bool) { return ts.Time.UTC(), ts.Valid })
}
