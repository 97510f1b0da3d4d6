package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteBackend keeps two pools on one file: a single-connection writer (SQLite has
// one writer at a time; one connection avoids lock contention inside the process and
// every write transaction is BEGIN IMMEDIATE) and a small reader pool that WAL lets
// run alongside the writer. Pragmas live in the DSN so every pooled connection gets
// them.
//
// Times are stored as INTEGER microseconds since the Unix epoch (UTC), which sort and
// compare correctly; NULL is the zero time.
type sqliteBackend struct {
	writer *sql.DB
	reader *sql.DB

	// stmts caches the writer's prepared statements by query text: with one writer
	// connection a cached statement is always prepared on it, and parsing a
	// statement costs more than running it. Query texts are bounded (multi-row
	// inserts vary only in their row count), and the cache is capped anyway.
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// maxCachedStmts caps the writer's statement cache.
const maxCachedStmts = 512

// cached returns the cached prepared statement for q, or nil.
func (b *sqliteBackend) cached(q string) *sql.Stmt {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stmts[q]
}

// prepare adds the statements of qs to the cache. It must not run inside a write
// transaction: preparing needs the single writer connection.
func (b *sqliteBackend) prepare(qs []string) {
	for _, q := range qs {
		b.mu.Lock()
		_, ok := b.stmts[q]
		full := b.stmts == nil || len(b.stmts) >= maxCachedStmts
		b.mu.Unlock()
		if ok || full {
			continue
		}
		st, err := b.writer.Prepare(q)
		if err != nil {
			continue // the statement ran unprepared; it will again
		}
		b.mu.Lock()
		if _, ok := b.stmts[q]; ok || b.stmts == nil {
			st.Close()
		} else {
			b.stmts[q] = st
		}
		b.mu.Unlock()
	}
}

// sqliteURI returns the modernc DSN for path with the store's pragmas.
func sqliteURI(d DSN, write bool) string {
	// file: URIs percent-decode the path, so escape what would change its meaning.
	p := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(d.Path)
	q := []string{
		"_pragma=busy_timeout(" + fmt.Sprint(d.BusyTimeout.Milliseconds()) + ")",
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(" + d.Synchronous + ")",
		"_pragma=foreign_keys(1)",
		// Reads through a memory map instead of a pread per page, and a page cache
		// big enough for the hot part of the outbox.
		"_pragma=mmap_size(268435456)",
		"_pragma=cache_size(-32768)",
		// Statement journals (a multi-row INSERT or a statement firing the count
		// triggers keeps one, to undo itself alone on a constraint failure) in
		// memory: in a temporary file each page of them was a write system call on
		// the single writer. They never outlive their statement, so this costs no
		// durability.
		"_pragma=temp_store(MEMORY)",
	}
	if write {
		q = append(q, "_txlock=immediate")
	} else {
		q = append(q, "_pragma=query_only(1)", "_txlock=deferred")
	}
	return "file:" + p + "?" + strings.Join(q, "&")
}

func openSQLite(ctx context.Context, d DSN) (backend, error) {
	if dir := filepath.Dir(d.Path); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("database directory: %w", err)
		}
	}
	// Create the file private to its owner: rendered requests may carry credentials.
	// SQLite gives the -wal and -shm files the database file's permissions.
	f, err := os.OpenFile(d.Path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	f.Close()
	w, err := sql.Open("sqlite", sqliteURI(d, true))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	// The writer connects first: it switches the file to WAL before readers open it.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", sqliteURI(d, false))
	if err != nil {
		w.Close()
		return nil, err
	}
	n := max(2, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	return &sqliteBackend{writer: w, reader: r, stmts: map[string]*sql.Stmt{}}, nil
}

func (b *sqliteBackend) driver() Driver     { return DriverSQLite }
func (b *sqliteBackend) lockSuffix() string { return "" }
func (b *sqliteBackend) timeType() string   { return "INTEGER" }

func (b *sqliteBackend) begin(ctx context.Context, write bool) (tx, error) {
	db := b.reader
	if write {
		db = b.writer
	}
	t, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	st := &sqliteTx{t: t}
	if write {
		st.b = b
	}
	return st, nil
}

func (b *sqliteBackend) isUnique(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return false
}

func (b *sqliteBackend) ping(ctx context.Context) error {
	if err := b.writer.PingContext(ctx); err != nil {
		return err
	}
	return b.reader.PingContext(ctx)
}

func (b *sqliteBackend) close() error {
	b.mu.Lock()
	var errs []error
	for _, st := range b.stmts {
		errs = append(errs, st.Close())
	}
	b.stmts = nil
	b.mu.Unlock()
	return errors.Join(append(errs, b.reader.Close(), b.writer.Close())...)
}

// sqliteTx is a transaction; b is set for write transactions, which use the
// writer's statement cache. Statements missing from the cache run unprepared and
// are prepared once the transaction has ended.
type sqliteTx struct {
	t      *sql.Tx
	b      *sqliteBackend
	missed []string
}

// prepared returns the transaction's handle on the cached statement for q, or nil.
func (t *sqliteTx) prepared(ctx context.Context, q string) (*sql.Stmt, error) {
	if t.b == nil {
		return nil, nil
	}
	st := t.b.cached(q)
	if st == nil {
		t.missed = append(t.missed, q)
		return nil, nil
	}
	return t.t.StmtContext(ctx, st), nil
}

func (t *sqliteTx) commit(context.Context) error {
	err := t.t.Commit()
	t.end()
	return err
}

func (t *sqliteTx) rollback(context.Context) error {
	err := t.t.Rollback()
	t.end()
	return err
}

func (t *sqliteTx) end() {
	if t.b != nil && len(t.missed) > 0 {
		missed := t.missed
		t.missed = nil
		t.b.prepare(missed)
	}
}

func (t *sqliteTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	var res sql.Result
	st, err := t.prepared(ctx, q)
	switch {
	case err != nil:
		return 0, err
	case st != nil:
		res, err = st.ExecContext(ctx, sqliteArgs(args)...)
	default:
		res, err = t.t.ExecContext(ctx, q, sqliteArgs(args)...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *sqliteTx) query(ctx context.Context, q string, args ...any) (rows, error) {
	var r *sql.Rows
	st, err := t.prepared(ctx, q)
	switch {
	case err != nil:
		return nil, err
	case st != nil:
		r, err = st.QueryContext(ctx, sqliteArgs(args)...)
	default:
		r, err = t.t.QueryContext(ctx, q, sqliteArgs(args)...)
	}
	if err != nil {
		return nil, err
	}
	return &sqliteRows{Rows: r}, nil
}

// sqliteArgs converts time.Time to microseconds (zero → NULL) and nil []byte to an
// empty blob.
func sqliteArgs(in []any) []any {
	return convertArgs(in, func(t time.Time) any { return t.UnixMicro() })
}

type sqliteRows struct{ *sql.Rows }

// Scan reads *time.Time destinations from microsecond integers.
func (r *sqliteRows) Scan(dest ...any) error {
	return scanTimes(r.Rows.Scan, dest, func(n sql.NullInt64) (time.Time, bool) { return time.UnixMicro(n.Int64).UTC(), n.Valid })
}
