// Package goldentest compares test output with golden files and rewrites them when the
// tests run with -update. It is the one golden-file helper of the module's tests.
//
// It sits under qualification, the package at the bottom of the module's import
// graph, so that every package's tests may import it without an arrow pointing up
// (design §1 fixes the top level, so there is no internal/ there). It imports no
// package of the module.
package goldentest

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// update is the -update flag of every test binary that imports this package.
var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// Updating reports whether the tests run with -update, for tests that write other
// files than through Check.
func Updating() bool { return *update }

// Check compares got with the golden file at path. With -update it writes got to
// path instead (creating its directory), so the diff shows up in version control.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; run go test -update if the change is intended):\n%s", path, diff)
	}
}
