package rules

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// condBase declares a form whose conditions the cases below compile (lines 1-6).
const condBase = `version: 1
forms:
  Ticket: {fields: {Status: {type: character}, Priority: {type: integer}}}
callouts: [{name: C, url: "http://127.0.0.1/", format: json}]
rules:
  - name: R
`

// TestConditionErrorPositions checks that a qualification error is reported at the
// offending token inside the YAML scalar, for every scalar style.
func TestConditionErrorPositions(t *testing.T) {
	tests := []struct {
		name string
		cond string // the condition key and value, written from column 5 of line 7
		want []string
	}{
		{"plain", `    condition: ('Status' = "x") AND 'Stauts' = "y"`,
			[]string{"7:37: invalid condition: unknown field 'Stauts'"}},
		{"double-quoted", `    condition: "'Status' = \"x\" AND 'Stauts' = \"y\""`,
			[]string{"7:38: invalid condition: unknown field 'Stauts'"}},
		{"double-quoted escapes", `    condition: "'Status' = \"\u00e9\t\" AND 'Stauts' = 1"`,
			[]string{"7:45: invalid condition: unknown field 'Stauts'"}},
		{"double-quoted multi-line", "    condition: \"'Status' = \\\"x\\\"\n      AND 'Stauts' = 1\"",
			[]string{"8:11: invalid condition: unknown field 'Stauts'"}},
		{"single-quoted", `    condition: '''Status'' = "x" AND ''Stauts'' = "y"'`,
			[]string{"7:38: invalid condition: unknown field 'Stauts'"}},
		{"single-quoted multi-line", "    condition: '''Status'' = \"x\"\n\n      AND ''Stauts'' = \"y\"'",
			[]string{"9:11: invalid condition: unknown field 'Stauts'"}},
		{"literal", "    condition: |\n      'Status' = \"x\" AND\n        'Stauts' = \"y\"\n",
			[]string{"9:9: invalid condition: unknown field 'Stauts'"}},
		{"literal keep", "    condition: |+\n      'Status' = \"x\"\n\n      OR 'Stauts' = \"y\"\n",
			[]string{"10:10: invalid condition: unknown field 'Stauts'"}},
		{"folded", "    condition: >-\n      'Status' = \"x\"\n      AND 'Priority' > 2\n      AND 'Stauts' = \"y\"\n",
			[]string{"10:11: invalid condition: unknown field 'Stauts'"}},
		{"folded with blank line", "    condition: >\n      'Status' = \"x\"\n\n      AND 'Stauts' = \"y\"\n",
			[]string{"10:11: invalid condition: unknown field 'Stauts'"}},
		{"several errors", `    condition: "'Stauts' = 1 AND 'Prio' = 2"`,
			[]string{
				"7:17: invalid condition: unknown field 'Stauts'",
				"7:34: invalid condition: unknown field 'Prio'",
			}},
		{"syntax error", `    condition: "'Status' = = 1"`,
			[]string{`7:28: invalid condition: missing operand before "="`}},
		{"env expanded before", `    condition: "'${FIELD}' = \"x\" AND 'Stauts' = 1"`,
			[]string{"7:40: invalid condition: unknown field 'Stauts'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := condBase + tt.cond + "\n    form: Ticket\n    events: [create]\n    callouts: [C]\n"
			_, err := parseTest(t, src)
			if diff := cmp.Diff(tt.want, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s\nsource:\n%s", diff, src)
			}
		})
	}
}
