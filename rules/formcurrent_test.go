package rules

import (
	"slices"
	"testing"
)

// TestCurrentFormName: a former name leads to the form that lists it, and the form
// to every name its records may carry.
func TestCurrentFormName(t *testing.T) {
	cfg := mustParse(t, `version: 1
forms:
  HPD:Incident:
    renamed_from: ["HPD:Help Desk", "HPD:Old"]
    fields: {Status: {id: 7, type: character}}
  Ticket:
    fields: {Status: {id: 7, type: character}}
`)
	for _, tc := range []struct {
		name, current string
		names         []string
	}{
		{"HPD:Help Desk", "HPD:Incident", []string{"HPD:Incident", "HPD:Help Desk", "HPD:Old"}},
		{"HPD:Incident", "HPD:Incident", []string{"HPD:Incident", "HPD:Help Desk", "HPD:Old"}},
		{"Ticket", "Ticket", []string{"Ticket"}},
		{"Gone", "Gone", []string{"Gone"}},
	} {
		if got := cfg.CurrentFormName(tc.name); got != tc.current {
			t.Errorf("CurrentFormName(%q) = %q, want %q", tc.name, got, tc.current)
		}
		if got := cfg.FormNames(tc.name); !slices.Equal(got, tc.names) {
			t.Errorf("FormNames(%q) = %q, want %q", tc.name, got, tc.names)
		}
	}
}
