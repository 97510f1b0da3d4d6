package rules

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPositionString(t *testing.T) {
	tests := []struct {
		in   Position
		want string
	}{
		{Position{File: "a.yaml", Line: 3, Column: 7}, "a.yaml:3:7"},
		{Position{File: "a.yaml", Line: 3}, "a.yaml:3"},
		{Position{Line: 3, Column: 7}, "3:7"},
		{Position{File: "a.yaml"}, "a.yaml"},
		{Position{}, "-"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestErrorList(t *testing.T) {
	var l ErrorList // the zero value is ready to use
	if l.Err() != nil || l.Error() != "no errors" {
		t.Fatalf("empty list: Err() = %v, Error() = %q", l.Err(), l.Error())
	}
	l.Add(Position{File: "b.yaml", Line: 1, Column: 1}, "third")
	l.Add(Position{File: "a.yaml", Line: 9, Column: 2}, "second")
	l.Add(Position{File: "a.yaml", Line: 2, Column: 5}, "first")
	l.Add(Position{}, "no position")
	l.Sort()
	want := "no position (and 3 more errors)"
	if got := l.Err().Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
	if got, want := listText(l), "no position\na.yaml:2:5: first\na.yaml:9:2: second\nb.yaml:1:1: third"; got != want {
		t.Errorf("sorted list =\n%s\nwant\n%s", got, want)
	}
	// Err returns the list whatever its length (go/scanner's contract), and
	// errors.As finds the list, or its first error, through wrapping.
	one := ErrorList{{Msg: "only"}}
	if _, ok := one.Err().(ErrorList); !ok || one.Err().Error() != "only" {
		t.Errorf("one-element Err() = %T %q, want the ErrorList", one.Err(), one.Err())
	}
	wrapped := fmt.Errorf("reload: %w", l.Err())
	var list ErrorList
	var first *Error
	if !errors.As(wrapped, &list) || len(list) != 4 || !errors.As(wrapped, &first) || first.Msg != "no position" {
		t.Errorf("errors.As through wrapping: list %v, first %v", list, first)
	}
	if l.Len() != 4 {
		t.Errorf("Len() = %d", l.Len())
	}
}

func TestExcerpt(t *testing.T) {
	src := newSource("f.yaml", []byte("a: 1\n\tb: \"é x\"\r\nlast"))
	tests := []struct {
		pos  Position
		want string
	}{
		{Position{"f.yaml", 1, 4}, "f.yaml:1:4: m\n 1 | a: 1\n   |    ^"},
		{Position{"f.yaml", 2, 6}, "f.yaml:2:6: m\n 2 | \tb: \"é x\"\n   | \t    ^"},
		{Position{"f.yaml", 3, 5}, "f.yaml:3:5: m\n 3 | last\n   |     ^"},
	}
	for _, tt := range tests {
		if got := src.errorAt(tt.pos, "m").Error(); got != tt.want {
			t.Errorf("errorAt(%v):\n%s\nwant\n%s", tt.pos, got, tt.want)
		}
	}
	if got := src.position(src.offset(2, 6)); got != (Position{"f.yaml", 2, 6}) {
		t.Errorf("position(offset(2, 6)) = %v", got)
	}
}

func TestMaskSecrets(t *testing.T) {
	tests := []struct{ in, want string }{
		{"    password: hunter2", "    password: *******"},
		{`    password: "a, b" # note`, `    password: ****** # note`},
		{`    password: a b   # note`, `    password: ***   # note`},
		{"callback: {url: x, authentication: {type: basic, username: u, password: Demo123}}", "callback: {url: x, authentication: {type: basic, username: u, password: *******}}"},
		{"    signing_secret: whsec_abc", "    signing_secret: *********"},
		{"    url: https://user:pw@host/x", "    url: https://*******@host/x"},
		{"    username: svc", "    username: svc"},
		{`    headers: {Authorization: "Bearer abc", X-Api-Key: k1}`, `    headers: {Authorization: ************, X-Api-Key: **}`},
	}
	for _, tt := range tests {
		if got := maskSecrets(tt.in); got != tt.want {
			t.Errorf("maskSecrets(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExpandEnv(t *testing.T) {
	tests := []struct {
		in, want string
		problems []string
	}{
		{"plain", "plain", nil},
		{"$USER$ and $NULL$", "$USER$ and $NULL$", nil},
		{"${FIELD}", "Status", nil},
		{"a${FIELD}b${FIELD}", "aStatusbStatus", nil},
		{"$${FIELD}", "${FIELD}", nil},
		{"$$${FIELD}", "$${FIELD}", nil},
		{"${EMPTY}|${EMPTY:-d}|${NOPE:-d}|${NOPE:-}", "|d|d|", nil},
		{"x${NOPE}y", "xy", []string{"1:environment variable NOPE is not set (use ${NOPE:-default} for a default)"}},
		{"${9}", "", []string{`0:invalid environment variable name "9" in "${9}"`}},
		{"${}", "", []string{`0:invalid environment variable name "" in "${}"`}},
		{"ab${X", "ab${X", []string{`2:unterminated "${" (write "$${" for a literal "${")`}},
	}
	for _, tt := range tests {
		got, idx, problems := expandEnv(tt.in, testEnv)
		var ps []string
		for _, p := range problems {
			ps = append(ps, strconv.Itoa(p.off)+":"+p.msg)
		}
		if got != tt.want || !cmp.Equal(ps, tt.problems) {
			t.Errorf("expandEnv(%q) = %q, %q; want %q, %q", tt.in, got, ps, tt.want, tt.problems)
		}
		if idx != nil && len(idx) != len(got) {
			t.Errorf("expandEnv(%q): %d offsets for %d bytes", tt.in, len(idx), len(got))
		}
	}
}

// TestInvalidGolden loads a file with many mistakes and compares the whole report,
// excerpts included, with testdata/invalid.golden (regenerate with -update).
func TestInvalidGolden(t *testing.T) {
	path := filepath.Join("testdata", "invalid.yaml")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = parse(path, src, testEnv)
	if err == nil {
		t.Fatal("invalid.yaml loaded without errors")
	}
	got := listText(err) + "\n"
	if strings.Contains(got, "hunter2") || strings.Contains(got, "user:secret") {
		t.Errorf("report leaks a secret:\n%s", got)
	}
	golden := filepath.Join("testdata", "invalid.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("report differs from %s (-want +got):\n%s", golden, diff)
	}
}

// listText is every error of an ErrorList, one after another (the whole report a
// user sees from `ruleflow check`), or err's text for any other error.
func listText(err error) string {
	list, ok := err.(ErrorList)
	if !ok {
		return err.Error()
	}
	texts := make([]string, len(list))
	for i, e := range list {
		texts[i] = e.Error()
	}
	return strings.Join(texts, "\n")
}
