package store

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Driver names a store backend.
type Driver string

// The backends.
const (
	DriverSQLite   Driver = "sqlite"
	DriverPostgres Driver = "postgres"
)

// DSN is a parsed data source name.
type DSN struct {
	Driver Driver

	// SQLite only.
	Path        string        // the database file
	Synchronous string        // FULL (default), NORMAL or EXTRA
	BusyTimeout time.Duration // how long a writer waits for another process's lock; default 5s

	// PostgreSQL only: the connection string handed to pgx.
	ConnString string
}

// DSNError describes a data source name that cannot be used. Its message never
// contains a password.
type DSNError struct {
	DSN string // the DSN with any password replaced by "xxxxx"
	Msg string
}

// Error returns the message as "store: dsn "DSN": problem".
func (e *DSNError) Error() string { return fmt.Sprintf("store: dsn %q: %s", e.DSN, e.Msg) }

const (
	defaultBusyTimeout = 5 * time.Second
	dsnWant            = "want sqlite:PATH, sqlite:///ABSPATH, file:PATH, postgres://… or postgresql://…"
)

// ParseDSN parses a store DSN:
//
//	sqlite:ruleflow.db                relative path
//	sqlite:/var/lib/ruleflow.db       absolute path
//	sqlite:///var/lib/ruleflow.db     absolute path, URL form
//	file:ruleflow.db                  as sqlite:
//	postgres://user@host:5432/db?sslmode=disable
//	postgresql://…                    as postgres://
//
// SQLite DSNs accept the options synchronous (full, normal or extra) and
// busy_timeout (a Go duration such as 5s, or milliseconds). In-memory SQLite
// databases are refused: the outbox must survive a restart.
func ParseDSN(dsn string) (DSN, error) {
	fail := func(format string, args ...any) (DSN, error) {
		return DSN{}, &DSNError{DSN: redactDSN(dsn), Msg: fmt.Sprintf(format, args...)}
	}
	scheme, rest, ok := strings.Cut(dsn, ":")
	if !ok || scheme == "" {
		return fail("missing scheme (%s)", dsnWant)
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		if !strings.HasPrefix(rest, "//") {
			return fail("postgres DSN must be a URL postgres://…")
		}
		if _, err := url.Parse(dsn); err != nil {
			return fail("invalid URL")
		}
		return DSN{Driver: DriverPostgres, ConnString: dsn}, nil
	case "sqlite", "file":
	default:
		return fail("unsupported scheme %q (%s)", scheme, dsnWant)
	}

	path, query, _ := strings.Cut(rest, "?")
	if strings.HasPrefix(path, "//") {
		// URL form: sqlite:///abs/path (empty host) or sqlite://localhost/abs/path.
		host, p, _ := strings.Cut(path[2:], "/")
		if host != "" && host != "localhost" {
			return fail("host %q not allowed: a SQLite DSN names a local file (use sqlite:///ABSPATH or sqlite:RELPATH)", host)
		}
		path = "/" + p
	}
	if unescaped, err := url.PathUnescape(path); err == nil {
		path = unescaped
	} else {
		return fail("invalid escape in path")
	}
	switch {
	case path == "" || path == "/":
		return fail("missing database file path")
	case path == ":memory:" || strings.Contains(query, "mode=memory"):
		return fail("in-memory databases are not supported: the outbox must be durable")
	case strings.ContainsRune(path, 0):
		return fail("path contains a NUL byte")
	}
	d := DSN{Driver: DriverSQLite, Path: path, Synchronous: "FULL", BusyTimeout: defaultBusyTimeout}
	if query == "" {
		return d, nil
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return fail("invalid query: %v", err)
	}
	for key, vals := range q {
		v := vals[len(vals)-1]
		switch key {
		case "synchronous":
			switch strings.ToUpper(v) {
			case "FULL", "NORMAL", "EXTRA":
				d.Synchronous = strings.ToUpper(v)
			default:
				return fail("synchronous=%q: want full, normal or extra", v)
			}
		case "busy_timeout":
			dur, err := time.ParseDuration(v)
			if err != nil {
				ms, err2 := strconv.Atoi(v)
				if err2 != nil {
					return fail("busy_timeout=%q: want a duration such as 5s", v)
				}
				dur = time.Duration(ms) * time.Millisecond
			}
			if dur < 0 {
				return fail("busy_timeout=%q: must not be negative", v)
			}
			d.BusyTimeout = dur
		default:
			return fail("unknown option %q (want synchronous, busy_timeout)", key)
		}
	}
	return d, nil
}

// String returns the DSN in canonical form; for PostgreSQL it includes the password.
func (d DSN) String() string {
	if d.Driver == DriverPostgres {
		return d.ConnString
	}
	p := strings.NewReplacer("%", "%25", "?", "%3F").Replace(d.Path)
	if strings.HasPrefix(p, "//") {
		p = "//" + p // keep the URL form from reading the path's start as a host
	}
	s := "sqlite:" + p
	var opts []string
	if d.Synchronous != "" && d.Synchronous != "FULL" {
		opts = append(opts, "synchronous="+strings.ToLower(d.Synchronous))
	}
	if d.BusyTimeout != defaultBusyTimeout {
		opts = append(opts, "busy_timeout="+d.BusyTimeout.String())
	}
	if len(opts) > 0 {
		s += "?" + strings.Join(opts, "&")
	}
	return s
}

// Redacted returns the DSN with any password replaced by "xxxxx", for logs and errors.
func (d DSN) Redacted() string { return redactDSN(d.String()) }

// redactDSN hides the password of a DSN: the userinfo password after "://" and
// the value of any password= parameter. It works on the raw text, so it also hides
// passwords in DSNs that do not parse.
func redactDSN(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+3:]
		auth := rest
		if q := strings.IndexByte(auth, '?'); q >= 0 {
			auth = auth[:q]
		}
		if at := strings.LastIndexByte(auth, '@'); at >= 0 {
			if c := strings.IndexByte(auth[:at], ':'); c >= 0 {
				dsn = dsn[:i+3] + rest[:c+1] + "xxxxx" + rest[at:]
			}
		}
	}
	var b strings.Builder
	for {
		k := strings.Index(strings.ToLower(dsn), "password=")
		if k < 0 {
			b.WriteString(dsn)
			return b.String()
		}
		b.WriteString(dsn[:k+len("password=")])
		b.WriteString("xxxxx")
		dsn = dsn[k+len("password="):]
		end := strings.IndexAny(dsn, "& \t\n")
		if end < 0 {
			end = len(dsn)
		}
		dsn = dsn[end:]
	}
}

// KeyFile returns where the secrets key file lives when RULEFLOW_KEY is unset: beside
// the SQLite database, named after it with ".key" appended (ruleflow.db →
// ruleflow.db.key). It returns "" for PostgreSQL: nodes sharing a database must
// share the key, so it has to come from RULEFLOW_KEY.
func (d DSN) KeyFile() string {
	if d.Driver != DriverSQLite || d.Path == "" {
		return ""
	}
	return d.Path + ".key"
}
