package qualification

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		input, want string
	}{
		{`'Status'="New"`, `('Status' = "New")`},
		{`NOT 'Status'="New"`, `NOT ('Status' = "New")`},
		{`! 'Status'="New" AND 'A' = 1`, `(NOT ('Status' = "New") AND ('A' = 1))`},
		{`NOT ('A' = 1 OR 'B' = 2)`, `NOT (('A' = 1) OR ('B' = 2))`},
		{`NOT NOT 'A' = 1`, `NOT NOT ('A' = 1)`},
		{`'A' = 1 OR 'B' = 2 AND 'C' = 3`, `(('A' = 1) OR (('B' = 2) AND ('C' = 3)))`},
		{`'A' = 1 AND 'B' = 2 OR 'C' = 3`, `((('A' = 1) AND ('B' = 2)) OR ('C' = 3))`},
		{`'A' = 1 && 'B' = 2 || 'C' = 3`, `((('A' = 1) AND ('B' = 2)) OR ('C' = 3))`},
		{`'A' = 1 and 'B' = 2 or 'C' = 3`, `((('A' = 1) AND ('B' = 2)) OR ('C' = 3))`},
		{`'Create-date' > ($TIMESTAMP$ - (60*60*24))`, `('Create-date' > ($TIMESTAMP$ - ((60 * 60) * 24)))`},
		{`('Create-date' > ($TIMESTAMP$ - (60*60*24)))`, `('Create-date' > ($TIMESTAMP$ - ((60 * 60) * 24)))`},
		{`'A' + 'B' * 'C' - 4 / 2 % 3 = -'D'`, `((('A' + ('B' * 'C')) - ((4 / 2) % 3)) = -'D')`},
		{`--1 < 2`, `(--1 < 2)`},
		{`1 - 2 - 3 = 'X'`, `(((1 - 2) - 3) = 'X')`},
		{`((('A' = 1)))`, `('A' = 1)`},
		{`'A' LIKE "%x%"`, `('A' LIKE "%x%")`},
		{`$USER$ = 'Submitter'`, `($USER$ = 'Submitter')`},
		{`$SERVER-TIMESTAMP$ > $SERVER_TIMESTAMP$`, `($SERVERTIMESTAMP$ > $SERVERTIMESTAMP$)`},
		{`$Status$ = $536870919$`, `($Status$ = $536870919$)`},
		{`'F' = $NULL$`, `('F' = $NULL$)`},
		{`'Doug''s Requests' = "say ""hi"""`, `('Doug''s Requests' = "say ""hi""")`},
		{`"Deployed"='ClassId'AND'ClassId'!="BMC_PERSON"`, `(("Deployed" = 'ClassId') AND ('ClassId' != "BMC_PERSON"))`},
		{`('Change Timing'!="Emergency")AND('Change Timing'!="Latent")`, `(('Change Timing' != "Emergency") AND ('Change Timing' != "Latent"))`},
	}
	for _, tt := range tests {
		n, err := Parse(tt.input)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.input, err)
			continue
		}
		if diff := cmp.Diff(tt.want, n.String()); diff != "" {
			t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.input, diff)
		}
		if n.Pos() < 0 || n.End() > len(tt.input) || n.Pos() >= n.End() {
			t.Errorf("Parse(%q): node spans [%d,%d), outside the source", tt.input, n.Pos(), n.End())
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		input, wantErr string
	}{
		{``, "qualification:1:1: empty qualification"},
		{`   `, "qualification:1:4: empty qualification\n   \n   ^"},
		{`'Status' = "New`, "qualification:1:12: unterminated string \"New\n'Status' = \"New\n           ^"},
		{`'Status = "New"`, "qualification:1:1: unterminated field reference 'Status = \"New\"\n'Status = \"New\"\n^"},
		{`dateTimeField> $DATE$`, "qualification:1:1: unquoted field name dateTimeField (write 'dateTimeField'; strings are written in double quotes)\ndateTimeField> $DATE$\n^"},
		{`'Status' =`, "qualification:1:11: missing operand after \"=\"\n'Status' =\n          ^"},
		{`= "New"`, "qualification:1:1: missing operand before \"=\"\n= \"New\"\n^"},
		{`'A' = 1 AND`, "qualification:1:12: missing operand after \"AND\"\n'A' = 1 AND\n           ^"},
		{`('A' = 1`, "qualification:1:1: unbalanced parenthesis: '(' is never closed\n('A' = 1\n^"},
		{`'A' = 1)`, "qualification:1:8: unbalanced parenthesis: ')' without '('\n'A' = 1)\n       ^"},
		{`('A' = 1 'B' = 2)`, "qualification:1:10: unexpected \"'B'\" (missing ')' for the '(' at column 1?)\n('A' = 1 'B' = 2)\n         ^"},
		{`'A' = ()`, "qualification:1:8: missing operand before ')'\n'A' = ()\n       ^"},
		{`'A' = 1 'B' = 2`, "qualification:1:9: unexpected \"'B'\" after a complete condition (missing AND or OR?)\n'A' = 1 'B' = 2\n        ^"},
		{`'A' = 1 = 2`, "qualification:1:9: chained comparison \"=\" after \"=\" (combine comparisons with AND)\n'A' = 1 = 2\n        ^"},
		{`'A' < 'B' < 'C'`, "qualification:1:11: chained comparison \"<\" after \"<\" (combine comparisons with AND)\n'A' < 'B' < 'C'\n          ^"},
		{`'Status'`, "qualification:1:1: expected a condition, found field 'Status' (compare it with = != < <= > >= or LIKE)\n'Status'\n^"},
		{`'A' AND 'B' = 1`, "qualification:1:1: operand of AND must be a condition, found field 'A'\n'A' AND 'B' = 1\n^"},
		{`'B' = 1 OR "x"`, "qualification:1:12: operand of OR must be a condition, found string \"x\"\n'B' = 1 OR \"x\"\n           ^"},
		{`NOT 'A'`, "qualification:1:5: operand of NOT must be a condition, found field 'A'\nNOT 'A'\n    ^"},
		{`('A' = 1) = 2`, "qualification:1:1: cannot compare a condition with \"=\"\n('A' = 1) = 2\n^"},
		{`'A' + ('B' = 1) = 2`, "qualification:1:7: operand of \"+\" must be a value, found a condition\n'A' + ('B' = 1) = 2\n      ^"},
		{`'A' = $DEFAULT$`, "qualification:1:7: $DEFAULT$ is not allowed in a qualification\n'A' = $DEFAULT$\n      ^"},
		{`'Assignee' = NULL`, "qualification:1:14: bare NULL: write $NULL$\n'Assignee' = NULL\n             ^"},
		{`EXTERNAL 'Q'`, "qualification:1:10: EXTERNAL needs a field in parentheses: EXTERNAL('Field') or EXTERNAL($Field$), found \"'Q'\"\nEXTERNAL 'Q'\n         ^"},
		{`EXTERNAL("x")`, "qualification:1:10: EXTERNAL needs a field: EXTERNAL('Field') or EXTERNAL($Field$), found \"\\\"x\\\"\"\nEXTERNAL(\"x\")\n         ^"},
		{`EXTERNAL($USER$)`, "qualification:1:10: EXTERNAL needs a field, found keyword $USER$\nEXTERNAL($USER$)\n         ^"},
		{`EXTERNAL('Q'`, "qualification:1:13: missing ')' after the field of EXTERNAL, found end of qualification\nEXTERNAL('Q'\n            ^"},
		{`EXTERNAL('Q') = 1`, "qualification:1:1: cannot compare a condition with \"=\"\nEXTERNAL('Q') = 1\n^"},
		{`'A' = 99999999999999999999`, "qualification:1:7: integer 99999999999999999999 out of range\n'A' = 99999999999999999999\n      ^"},
		{"'A' = 1 AND\n  'B' = \"x", "qualification:2:9: unterminated string \"x\n  'B' = \"x\n        ^"},
		{"'A' = 1 AND\n\t'B' = ", "qualification:2:8: missing operand after \"=\"\n\t'B' = \n\t      ^"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.input)
		if err == nil {
			t.Errorf("Parse(%q): no error, want %q", tt.input, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.wantErr, err.Error()); diff != "" {
			t.Errorf("Parse(%q) error mismatch (-want +got):\n%s", tt.input, diff)
		}
		if _, ok := err.(*Error); !ok {
			t.Errorf("Parse(%q) error is %T, want *Error", tt.input, err)
		}
	}
}

func TestParseLimits(t *testing.T) {
	long := strings.Repeat(" ", MaxSourceLen) + "'A' = 1"
	_, err := Parse(long)
	if err == nil || !strings.Contains(err.Error(), "qualification too long: 65543 bytes (limit 65536)") {
		t.Errorf("Parse(65543 bytes) = %v, want too long", err)
	}
	deep := strings.Repeat("(", 300) + "'A' = 1" + strings.Repeat(")", 300)
	if _, err := Parse(deep); err == nil || !strings.HasPrefix(err.Error(), "qualification:1:201: qualification nested too deeply (limit 200)") {
		t.Errorf("Parse(300 parentheses) = %v, want nested too deeply", err)
	}
	wide := "'A' = 1" + strings.Repeat(" OR 'A' = 1", 4000)
	if _, err := Parse(wide); err == nil || !strings.Contains(err.Error(), "qualification too complex: more than 10000 nodes") {
		t.Errorf("Parse(4001 comparisons) = %v, want too complex", err)
	}
}
