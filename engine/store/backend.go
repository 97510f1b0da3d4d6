package store

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// backend is what the shared store code needs from a database. Queries are written
// once, with ? placeholders; a backend rewrites them for its dialect. Arguments and
// scan destinations of type time.Time / *time.Time are converted by the backend (the
// zero time is NULL), so the shared code never sees the column representation.
type backend interface {
	driver() Driver
	// begin starts a transaction. A write transaction takes the write lock at once
	// (SQLite BEGIN IMMEDIATE) so it cannot fail halfway with SQLITE_BUSY.
	begin(ctx context.Context, write bool) (tx, error)
	// lockSuffix is appended to the claim subquery: FOR UPDATE SKIP LOCKED on PostgreSQL.
	lockSuffix() string
	// timeType is the SQL type of time columns, for CASTs: INTEGER or TIMESTAMPTZ.
	timeType() string
	// isUnique reports whether err is a unique-constraint violation.
	isUnique(err error) bool
	ping(ctx context.Context) error
	close() error
}

// querier runs statements inside a transaction.
type querier interface {
	exec(ctx context.Context, q string, args ...any) (int64, error)
	query(ctx context.Context, q string, args ...any) (rows, error)
}

// tx is a database transaction.
type tx interface {
	querier
	commit(ctx context.Context) error
	rollback(ctx context.Context) error
}

// rows iterates over a result set.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// placeholders is the parenthesised list of n parameters of an IN list, "(?, ?, ?)";
// n must be at least 1.
func placeholders(n int) string {
	return "(?" + strings.Repeat(", ?", n-1) + ")"
}

// queryRow runs q and scans its first row into dest; it reports whether a row existed.
func queryRow(ctx context.Context, q querier, query string, args []any, dest ...any) (bool, error) {
	_, ok, err := queryOne(ctx, q, func(r rows) (struct{}, error) { return struct{}{}, r.Scan(dest...) }, query, args...)
	return ok, err
}

// queryOne runs query and reads its first row with scan; it reports whether a row
// existed.
func queryOne[T any](ctx context.Context, q querier, scan func(rows) (T, error), query string, args ...any) (T, bool, error) {
	var zero T
	r, err := q.query(ctx, query, args...)
	if err != nil {
		return zero, false, err
	}
	defer r.Close()
	if !r.Next() {
		return zero, false, r.Err()
	}
	v, err := scan(r)
	if err != nil {
		return zero, false, err
	}
	return v, true, r.Close()
}

// queryAll runs query and reads every row with scan; it returns nil for no rows.
func queryAll[T any](ctx context.Context, q querier, scan func(rows) (T, error), query string, args ...any) ([]T, error) {
	r, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []T
	for r.Next() {
		v, err := scan(r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return out, r.Close()
}

// readTx runs fn in a read transaction.
func readTx(ctx context.Context, db backend, fn func(tx) error) error {
	t, err := db.begin(ctx, false)
	if err != nil {
		return err
	}
	defer t.rollback(ctx)
	if err := fn(t); err != nil {
		return err
	}
	return t.commit(ctx)
}

// writeTx runs fn in a write transaction and commits it if fn succeeds.
func writeTx(ctx context.Context, db backend, fn func(tx) error) error {
	t, err := db.begin(ctx, true)
	if err != nil {
		return err
	}
	if err := fn(t); err != nil {
		t.rollback(ctx)
		return err
	}
	return t.commit(ctx)
}

// convertArgs returns a copy of in for a backend: a zero time.Time becomes NULL and
// any other becomes timeArg(t); a nil []byte becomes an empty one.
func convertArgs(in []any, timeArg func(time.Time) any) []any {
	args := make([]any, len(in))
	copy(args, in)
	for i, a := range args {
		switch v := a.(type) {
		case time.Time:
			if v.IsZero() {
				args[i] = nil
			} else {
				args[i] = timeArg(v)
			}
		case []byte:
			if v == nil {
				args[i] = []byte{}
			}
		}
	}
	return args
}

// scanTimes calls scan with dest, reading each *time.Time destination through a
// column value N that toTime converts; where toTime reports false (NULL) the
// destination gets the zero time.
func scanTimes[N any](scan func(...any) error, dest []any, toTime func(N) (time.Time, bool)) error {
	var times []*time.Time
	var tmp []N
	dest = append([]any(nil), dest...)
	for i, d := range dest {
		if tp, ok := d.(*time.Time); ok {
			if tmp == nil {
				tmp = make([]N, 0, len(dest))
			}
			var zero N
			tmp = append(tmp, zero)
			times = append(times, tp)
			dest[i] = &tmp[len(tmp)-1]
		}
	}
	if err := scan(dest...); err != nil {
		return err
	}
	for i, tp := range times {
		if t, ok := toTime(tmp[i]); ok {
			*tp = t
		} else {
			*tp = time.Time{}
		}
	}
	return nil
}

// dollarPlaceholders rewrites ? placeholders to $1, $2, … (the queries hold no
// literal question marks).
func dollarPlaceholders(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
