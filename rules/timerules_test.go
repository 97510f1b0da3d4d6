package rules

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// timeBase is a valid configuration (lines 1-9) with a datetime and a date field.
const timeBase = `version: 1
forms:
  Ticket:
    fields:
      Status: {id: 7, type: selection, options: [New, Complete]}
      DueDate: {id: 3, type: datetime}
      Day: {id: 4, type: date}
      Note: {id: 5, type: character}
callouts: [{name: C1, url: "http://127.0.0.1:9/x", format: name-value}]
`

func TestTimeRuleParses(t *testing.T) {
	cfg := mustParse(t, timeBase+`rules:
  - {name: R, form: Ticket, events: [time], at: {field: DueDate, offset: -30m}, condition: "'Status' != \"Complete\"", callouts: [C1], repeat: {every: 1h, max: 5}}
  - {name: D, form: Ticket, events: [time], at: {field: Day}, callouts: [C1]}
`)
	r := cfg.Rules[0]
	if !r.IsTimeRule() || r.At.Offset.Std() != -30*time.Minute || r.Repeat.Every.Std() != time.Hour || r.Repetitions() != 6 {
		t.Fatalf("rule = %+v at %+v repeat %+v", r, r.At, r.Repeat)
	}
	if cfg.Rules[1].Repetitions() != 1 || cfg.Rules[1].At.Offset != 0 {
		t.Errorf("rule D = %+v", cfg.Rules[1].At)
	}
	due := time.Date(2026, 3, 8, 10, 0, 0, 0, time.UTC)
	anchor, at, ok := r.DueAt(Record{"DueDate": due})
	if !ok || !anchor.Equal(due) || !at.Equal(due.Add(-30*time.Minute)) {
		t.Errorf("DueAt = %v %v %v", anchor, at, ok)
	}
	if _, _, ok := r.DueAt(Record{"DueDate": nil}); ok {
		t.Error("a NULL anchor armed a timer")
	}
	if _, _, ok := r.DueAt(Record{}); ok {
		t.Error("a missing anchor armed a timer")
	}
}

func TestTimeRuleErrors(t *testing.T) {
	tests := []struct {
		name string
		rule string
		want []string
	}{
		{"mixed events", `{name: R, form: Ticket, events: [create, time], at: {field: DueDate}, callouts: [C1]}`,
			[]string{`11:38: rule "R": events: [time] cannot be mixed with create events; write a separate rule`}},
		{"no at", `{name: R, form: Ticket, events: [time], callouts: [C1]}`,
			[]string{`11:37: rule "R" is a time rule and needs at: {field, offset}`}},
		{"at without time", `{name: R, form: Ticket, events: [create], at: {field: DueDate}, callouts: [C1]}`,
			[]string{`11:51: rule "R" has at but is not a time rule (events: [time])`}},
		{"repeat without time", `{name: R, form: Ticket, events: [update], repeat: {every: 1h, max: 2}, callouts: [C1]}`,
			[]string{`11:55: rule "R" has repeat but is not a time rule (events: [time])`}},
		{"unknown field", `{name: R, form: Ticket, events: [time], at: {field: Due}, callouts: [C1]}`,
			[]string{`11:57: at.field "Due" is not a field of form "Ticket"`}},
		{"character field", `{name: R, form: Ticket, events: [time], at: {field: Note}, callouts: [C1]}`,
			[]string{`11:57: at.field "Note" is a character field of form "Ticket"; it must be a datetime or date field`}},
		{"empty field", `{name: R, form: Ticket, events: [time], at: {field: ""}, callouts: [C1]}`,
			[]string{`11:57: rule "R": at.field must name a datetime or date field`}},
		{"bad offset", `{name: R, form: Ticket, events: [time], at: {field: DueDate, offset: soon}, callouts: [C1]}`,
			[]string{`11:74: invalid duration "soon" (want a number with a unit, such as 20s or 1m30s)`}},
		{"repeat bounds", `{name: R, form: Ticket, events: [time], at: {field: DueDate}, repeat: {every: 100ms, max: 0}, callouts: [C1]}`,
			[]string{`11:83: repeat every 100ms is too short (minimum 1s)`, `11:95: repeat max 0 out of range (1 to 1000)`}},
		{"reject", `{name: R, form: Ticket, events: [time], at: {field: DueDate}, reject: no}`,
			[]string{`11:75: rule "R" is a time rule: there is no save to reject`}},
		{"set", `{name: R, form: Ticket, events: [time], at: {field: DueDate}, set: {Note: "\"x\""}, callouts: [C1]}`,
			[]string{`11:72: rule "R" is a time rule: there is no save whose fields it could set`}},
		{"unknown key in at", `{name: R, form: Ticket, events: [time], at: {field: DueDate, when: x}, callouts: [C1]}`,
			[]string{`11:66: unknown key "when" in at`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseTest(t, timeBase+"rules:\n  - "+tt.rule+"\n")
			if diff := cmp.Diff(tt.want, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
