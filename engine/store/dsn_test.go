package store

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseDSN(t *testing.T) {
	sqlite := func(path string) DSN {
		return DSN{Driver: DriverSQLite, Path: path, Synchronous: "FULL", BusyTimeout: 5 * time.Second}
	}
	tests := []struct {
		in   string
		want DSN
	}{
		{"sqlite:ruleflow.db", sqlite("ruleflow.db")},
		{"sqlite:data/ruleflow.db", sqlite("data/ruleflow.db")},
		{"sqlite:/var/lib/ruleflow.db", sqlite("/var/lib/ruleflow.db")},
		{"sqlite:///var/lib/ruleflow.db", sqlite("/var/lib/ruleflow.db")},
		{"sqlite://localhost/var/lib/ruleflow.db", sqlite("/var/lib/ruleflow.db")},
		{"SQLITE:x.db", sqlite("x.db")},
		{"file:x.db", sqlite("x.db")},
		{"sqlite:my%20file.db", sqlite("my file.db")},
		{"sqlite:x.db?synchronous=normal", DSN{Driver: DriverSQLite, Path: "x.db", Synchronous: "NORMAL", BusyTimeout: 5 * time.Second}},
		{"sqlite:x.db?synchronous=EXTRA&busy_timeout=250", DSN{Driver: DriverSQLite, Path: "x.db", Synchronous: "EXTRA", BusyTimeout: 250 * time.Millisecond}},
		{"sqlite:x.db?busy_timeout=2s", DSN{Driver: DriverSQLite, Path: "x.db", Synchronous: "FULL", BusyTimeout: 2 * time.Second}},
		{"postgres://u:p@127.0.0.1:5432/db?sslmode=disable", DSN{Driver: DriverPostgres, ConnString: "postgres://u:p@127.0.0.1:5432/db?sslmode=disable"}},
		{"postgresql://127.0.0.1/db", DSN{Driver: DriverPostgres, ConnString: "postgresql://127.0.0.1/db"}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseDSN(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseDSN (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDSNErrors(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{"", `store: dsn "": missing scheme (want sqlite:PATH, sqlite:///ABSPATH, file:PATH, postgres://… or postgresql://…)`},
		{"ruleflow.db", `store: dsn "ruleflow.db": missing scheme (want sqlite:PATH, sqlite:///ABSPATH, file:PATH, postgres://… or postgresql://…)`},
		{"mysql://x", `store: dsn "mysql://x": unsupported scheme "mysql" (want sqlite:PATH, sqlite:///ABSPATH, file:PATH, postgres://… or postgresql://…)`},
		{"sqlite:", `store: dsn "sqlite:": missing database file path`},
		{"sqlite:///", `store: dsn "sqlite:///": missing database file path`},
		{"sqlite::memory:", `store: dsn "sqlite::memory:": in-memory databases are not supported: the outbox must be durable`},
		{"file:x.db?mode=memory", `store: dsn "file:x.db?mode=memory": in-memory databases are not supported: the outbox must be durable`},
		{"sqlite://db.example.com/x.db", `store: dsn "sqlite://db.example.com/x.db": host "db.example.com" not allowed: a SQLite DSN names a local file (use sqlite:///ABSPATH or sqlite:RELPATH)`},
		{"sqlite:x%zz.db", `store: dsn "sqlite:x%zz.db": invalid escape in path`},
		{"sqlite:x.db?synchronous=off", `store: dsn "sqlite:x.db?synchronous=off": synchronous="off": want full, normal or extra`},
		{"sqlite:x.db?busy_timeout=soon", `store: dsn "sqlite:x.db?busy_timeout=soon": busy_timeout="soon": want a duration such as 5s`},
		{"sqlite:x.db?busy_timeout=-1s", `store: dsn "sqlite:x.db?busy_timeout=-1s": busy_timeout="-1s": must not be negative`},
		{"sqlite:x.db?_pragma=foo", `store: dsn "sqlite:x.db?_pragma=foo": unknown option "_pragma" (want synchronous, busy_timeout)`},
		{"sqlite:x.db?a=%zz", `store: dsn "sqlite:x.db?a=%zz": invalid query: invalid URL escape "%zz"`},
		{"postgres:db", `store: dsn "postgres:db": postgres DSN must be a URL postgres://…`},
		{"postgres://u:hunter2@[::1", `store: dsn "postgres://u:xxxxx@[::1": invalid URL`},
		{"pg://u:pa/ss@h password=hunter2", `store: dsn "pg://u:xxxxx@h password=xxxxx": unsupported scheme "pg" (want sqlite:PATH, sqlite:///ABSPATH, file:PATH, postgres://… or postgresql://…)`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseDSN(tc.in)
			if got := errString(err); got != tc.wantErr {
				t.Errorf("err = %s\nwant  %s", got, tc.wantErr)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestDSNStringAndRedacted(t *testing.T) {
	tests := []struct {
		in, str, redacted string
	}{
		{"sqlite:x.db", "sqlite:x.db", "sqlite:x.db"},
		{"file:x.db?synchronous=normal&busy_timeout=1s", "sqlite:x.db?synchronous=normal&busy_timeout=1s", "sqlite:x.db?synchronous=normal&busy_timeout=1s"},
		{"postgres://rf:hunter2@db:5432/rf", "postgres://rf:hunter2@db:5432/rf", "postgres://rf:xxxxx@db:5432/rf"},
		{"postgres://rf@db/rf?password=hunter2&sslmode=require", "postgres://rf@db/rf?password=hunter2&sslmode=require", "postgres://rf@db/rf?password=xxxxx&sslmode=require"},
		{"postgres://rf@db/rf", "postgres://rf@db/rf", "postgres://rf@db/rf"},
	}
	for _, tc := range tests {
		d, err := ParseDSN(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.String(); got != tc.str {
			t.Errorf("ParseDSN(%q).String() = %q, want %q", tc.in, got, tc.str)
		}
		if got := d.Redacted(); got != tc.redacted {
			t.Errorf("ParseDSN(%q).Redacted() = %q, want %q", tc.in, got, tc.redacted)
		}
	}
}

func TestDSNKeyFile(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sqlite:ruleflow.db", "ruleflow.db.key"},
		{"sqlite:///var/lib/ruleflow/outbox.db?synchronous=normal", "/var/lib/ruleflow/outbox.db.key"},
		{"postgres://rf@db/rf", ""},
	}
	for _, tc := range tests {
		d, err := ParseDSN(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.KeyFile(); got != tc.want {
			t.Errorf("ParseDSN(%q).KeyFile() = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzParseDSN: no input panics, an accepted DSN round-trips through String, and no
// error repeats a password.
func FuzzParseDSN(f *testing.F) {
	for _, s := range []string{
		"sqlite:ruleflow.db", "sqlite:///abs/x.db?synchronous=normal", "file:x.db?busy_timeout=10",
		"postgres://u:pw@127.0.0.1:5432/db?sslmode=disable", "sqlite::memory:", "sqlite://h/x", "x", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d, err := ParseDSN(in)
		if err != nil {
			if hasPassword(in) && strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error leaks the password: %v", err)
			}
			return
		}
		again, err := ParseDSN(d.String())
		if err != nil {
			t.Fatalf("ParseDSN(%q) = %+v, but its String %q does not parse: %v", in, d, d.String(), err)
		}
		if d.Driver == DriverSQLite && (again.Path != d.Path || again.Synchronous != d.Synchronous || again.BusyTimeout != d.BusyTimeout) {
			t.Fatalf("round trip of %q: %+v != %+v", in, again, d)
		}
	})
}

// hasPassword reports whether dsn holds the password hunter2 as URL userinfo
// ("scheme://user:hunter2@") or as a password=hunter2 parameter.
func hasPassword(dsn string) bool {
	if strings.Contains(strings.ToLower(dsn), "password=hunter2") {
		return true
	}
	i := strings.Index(dsn, "://")
	if i < 0 {
		return false
	}
	rest := dsn[i+3:]
	j := strings.Index(rest, ":hunter2@")
	return j >= 0 && !strings.ContainsAny(rest[:j], ":?@")
}
