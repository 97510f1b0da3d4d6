package rules

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRunCascadeExternal checks that the cascade evaluates again a rule whose
// condition reads a qualification from a field (EXTERNAL): the fields that
// qualification reads are known only at run time, so a change to any field
// may make it hold.
func TestRunCascadeExternal(t *testing.T) {
	cfg := mustParse(t, actionsForm+`rules:
  - {name: external, form: Ticket, events: [create], condition: "EXTERNAL('Flag')", callouts: [C1]}
  - {name: raise, form: Ticket, events: [create], condition: "'Title' LIKE \"%router%\"", set: {Priority: '"High"'}}
`)
	ev := &Event{Kind: KindCreate, Form: "Ticket", After: Record{"Title": "router down", "Priority": "Low", "Flag": `'Priority' = "High"`}}
	out := runEvent(t, cfg, ev)
	if got, want := firedRules(out), []string{"raise", "external"}; !cmp.Equal(got, want) {
		t.Errorf("fired %q, want %q", got, want)
	}
	if out.Passes != 2 {
		t.Errorf("passes = %d, want 2", out.Passes)
	}
}

// TestRunCascadeChangedFields checks that each pass evaluates again the rules
// that read a field the pass before changed, and only those fire that hold:
// a rule reading a field changed two passes back, but not since, is not
// evaluated again, and one reading a field the last pass changed is.
func TestRunCascadeChangedFields(t *testing.T) {
	cfg := mustParse(t, actionsForm+`rules:
  - {name: on owner, form: Ticket, events: [create], condition: "'Owner' = \"ops\"", set: {Queue: '"Q"'}}
  - {name: on queue, form: Ticket, events: [create], condition: "'Queue' = \"Q\" AND 'Owner' = \"ops\"", callouts: [C1]}
  - {name: on title, form: Ticket, events: [create], condition: "'Title' = \"x\"", set: {Owner: '"ops"'}}
`)
	out := runEvent(t, cfg, &Event{Kind: KindCreate, Form: "Ticket", After: Record{"Title": "x"}})
	if got, want := firedRules(out), []string{"on title", "on owner", "on queue"}; !cmp.Equal(got, want) {
		t.Errorf("fired %q, want %q", got, want)
	}
	if out.Passes != 3 || len(out.Set) != 2 || out.Set[1].Pass != 2 {
		t.Errorf("passes %d, set %+v", out.Passes, out.Set)
	}
}
