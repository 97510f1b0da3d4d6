package qualification

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// errorCases are bad qualifications whose messages are pinned in
// testdata/errors.golden. Each is compiled against ticketSchema.
var errorCases = []string{
	`'Status' = "New`,
	`'Status = "New"`,
	`'Create-date' > $TIMETSTAMP$`,
	`'Create-date' > $DEFAULT$`,
	`dateTimeField> $DATE$`,
	`'Status' =`,
	`'Status' = "New" AND`,
	`('Status' = "New"`,
	`'Status' = "New")`,
	`(('Status' = "New") OR 'Priority' = 1))`,
	`'Assignee Login ID' = "jsmith" AND 'Status' < "Resolved"`,
	`'Status' = "Open"`,
	`'Status' < 12`,
	`'Priority' = "high"`,
	`'Create-date' > "31/31/2020"`,
	`'Status' = 1 = 2`,
	`'Priority' LIKE "%1"`,
	`'Screenshot' LIKE "%.png"`,
	`'Screenshot' = "a.png"`,
	`'Submitter' = NULL`,
	`'Submitter' & "x"`,
	`$USER$`,
	`NOT`,
	`'A' = 1`,
	`$user$ = "x"`,
	`'Priority' / 0 > 1`,
	"'Status' = \"New\" AND\n    'Nope' = 1 AND\n\t'Priority' = \"x\"",
	`'Submitter' = "naïve" AND 'Nöpe' = 1`,
}

func TestErrorsGolden(t *testing.T) {
	compareGolden(t, "testdata/errors.golden", errorsReport(t, ticketSchema(t), errorCases))
}

// errorsReport compiles each case against s and lists the error texts.
func errorsReport(t *testing.T, s *Schema, cases []string) string {
	var b strings.Builder
	for _, src := range cases {
		_, err := Compile(src, Options{Schema: s})
		b.WriteString("== " + strings.ReplaceAll(src, "\n", `\n`) + "\n")
		if err == nil {
			t.Errorf("Compile(%q): no error", src)
			b.WriteString("(no error)\n")
			continue
		}
		// Every error of a list, not only the first that ErrorList.Error shows.
		if list, ok := err.(ErrorList); ok {
			for _, e := range list {
				b.WriteString(e.Error() + "\n")
			}
			continue
		}
		b.WriteString(err.Error() + "\n")
	}
	return b.String()
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got), run go test -update if intended:\n%s", path, diff)
	}
}
