package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// migration is one schema change: migrations/<driver>/NNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrationAdvisoryLock is the pg_advisory_xact_lock key that serialises concurrent
// Opens on one PostgreSQL database ("rflowmig" in ASCII).
const migrationAdvisoryLock = 0x72666c6f776d6967

// loadMigrations reads the migrations under dir of fsys in version order. File names
// must be NNN_name.sql with a positive, unique, gap-free version starting at 1.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		m, err := parseMigrationName(e.Name())
		if err != nil {
			return nil, err
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		m.sql = string(b)
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			if i > 0 && m.version == ms[i-1].version {
				return nil, fmt.Errorf("migration %s: version %d used twice", m.name, m.version)
			}
			return nil, fmt.Errorf("migration %s: version %d, want %d (versions start at 1 without gaps)", m.name, m.version, i+1)
		}
	}
	return ms, nil
}

// parseMigrationName parses "NNN_name.sql".
func parseMigrationName(file string) (migration, error) {
	base := strings.TrimSuffix(file, ".sql")
	num, label, ok := strings.Cut(base, "_")
	if !ok || num == "" || label == "" {
		return migration{}, fmt.Errorf("migration %q: name must be NNN_name.sql", file)
	}
	for _, c := range num {
		if c < '0' || c > '9' {
			return migration{}, fmt.Errorf("migration %q: version %q is not a number", file, num)
		}
	}
	v, err := strconv.Atoi(num)
	if err != nil || v < 1 {
		return migration{}, fmt.Errorf("migration %q: version %q must be a positive number", file, num)
	}
	return migration{version: v, name: file}, nil
}

// migrate applies the migrations the database lacks, all in one write transaction,
// recording each in schema_migrations. It is idempotent. On SQLite the transaction
// holds the write lock from its start; on PostgreSQL an advisory lock serialises
// concurrent callers, so two nodes starting together do not race.
func migrate(ctx context.Context, db backend) error {
	dir := "migrations/" + string(db.driver())
	ms, err := loadMigrations(migrationFS, dir)
	if err != nil {
		return err
	}
	create := `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
)`
	if db.driver() == DriverPostgres {
		create = strings.Replace(create, "applied_at INTEGER", "applied_at TIMESTAMPTZ", 1)
	}
	return writeTx(ctx, db, func(t tx) error {
		if db.driver() == DriverPostgres {
			if _, err := t.exec(ctx, "SELECT pg_advisory_xact_lock(?)", int64(migrationAdvisoryLock)); err != nil {
				return err
			}
		}
		if _, err := t.exec(ctx, create); err != nil {
			return err
		}
		scanVersion := func(r rows) (int, error) {
			var v int
			err := r.Scan(&v)
			return v, err
		}
		versions, err := queryAll(ctx, t, scanVersion, "SELECT version FROM schema_migrations")
		if err != nil {
			return err
		}
		applied := map[int]bool{}
		for _, v := range versions {
			applied[v] = true
		}
		for v := range applied {
			if v > len(ms) {
				return fmt.Errorf("database schema version %d is newer than this program knows (%d): upgrade ruleflow", v, len(ms))
			}
		}
		for _, m := range ms {
			if applied[m.version] {
				continue
			}
			if _, err := t.exec(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			if _, err := t.exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.version, m.name, utc(time.Now())); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		return nil
	})
}
