package store

import (
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestLoadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []string // names in order
		wantErr string
	}{
		{"ordered", fstest.MapFS{"m/002_b.sql": file("B"), "m/001_a.sql": file("A"), "m/README": file("x")}, []string{"001_a.sql", "002_b.sql"}, ""},
		{"empty", fstest.MapFS{"m/.keep": file("")}, nil, ""},
		{"gap", fstest.MapFS{"m/001_a.sql": file(""), "m/003_c.sql": file("")}, nil, "migration 003_c.sql: version 3, want 2 (versions start at 1 without gaps)"},
		{"twice", fstest.MapFS{"m/001_a.sql": file(""), "m/001_b.sql": file("")}, nil, "migration 001_b.sql: version 1 used twice"},
		{"zero", fstest.MapFS{"m/000_a.sql": file("")}, nil, `migration "000_a.sql": version "000" must be a positive number`},
		{"no label", fstest.MapFS{"m/001.sql": file("")}, nil, `migration "001.sql": name must be NNN_name.sql`},
		{"not a number", fstest.MapFS{"m/01a_x.sql": file("")}, nil, `migration "01a_x.sql": version "01a" is not a number`},
		{"missing dir", fstest.MapFS{}, nil, "open m: file does not exist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := loadMigrations(tc.files, "m")
			if got := errString(err); tc.wantErr != "" && got != tc.wantErr || tc.wantErr == "" && err != nil {
				t.Fatalf("err = %s, want %q", got, tc.wantErr)
			}
			var names []string
			for _, m := range ms {
				names = append(names, m.name)
			}
			if diff := cmp.Diff(tc.want, names); diff != "" {
				t.Errorf("migrations (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEmbeddedMigrationsMatch: both dialects have the same migrations.
func TestEmbeddedMigrationsMatch(t *testing.T) {
	lite, err := loadMigrations(migrationFS, "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	pg, err := loadMigrations(migrationFS, "migrations/postgres")
	if err != nil {
		t.Fatal(err)
	}
	names := func(ms []migration) (out []string) {
		for _, m := range ms {
			out = append(out, m.name)
		}
		return out
	}
	if diff := cmp.Diff(names(lite), names(pg)); diff != "" {
		t.Errorf("sqlite and postgres migrations differ (-sqlite +postgres):\n%s", diff)
	}
}
