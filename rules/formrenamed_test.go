package rules

import (
	"strings"
	"testing"
)

// TestFormRenamedFrom: a form's renamed_from is accepted, a rule on a former name
// follows the form, and each misuse is a positioned error.
func TestFormRenamedFrom(t *testing.T) {
	const head = "version: 1\nforms:\n"
	tests := []struct{ name, src, wantErr string }{
		{"ok", `  HPD:Incident: {fields: {Status: {id: 7, type: character}}, renamed_from: ["HPD:Help Desk", "HPD:Old"]}
rules:
  - {name: r, form: "HPD:Help Desk", events: [create], condition: "'Status' = \"New\"", callouts: [c]}
callouts:
  - {name: c, url: "http://127.0.0.1:9/x", format: name-value}
`, ""},
		{"empty", `  A: {fields: {}, renamed_from: [""]}
`, `test.yaml:3:34: renamed_from entry must not be empty`},
		{"own name", `  A: {fields: {}, renamed_from: [A]}
`, `test.yaml:3:34: form "A" lists its own name in renamed_from`},
		{"still declared", `  A: {fields: {}, renamed_from: [B]}
  B: {fields: {}}
`, `test.yaml:3:34: renamed_from "B" names a form that is still declared (line 4)`},
		{"twice", `  A: {fields: {}, renamed_from: [Old, Old]}
`, `test.yaml:3:39: renamed_from lists "Old" twice`},
		{"claimed by two", `  A: {fields: {}, renamed_from: [Old]}
  B: {fields: {}, renamed_from: [Old]}
`, `test.yaml:4:34: renamed_from "Old" is already claimed by form "A" (line 3)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("test.yaml", []byte(head+tt.src))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				f, ok := cfg.FormRenamedFrom("HPD:Help Desk")
				if !ok || f.Name != "HPD:Incident" {
					t.Errorf("FormRenamedFrom = %v, %v", f, ok)
				}
				if r := cfg.Rules[0]; r.Form != "HPD:Incident" {
					t.Errorf("rule form = %q, want the new name", r.Form)
				}
				ev := &Event{Kind: KindCreate, Form: "HPD:Incident", EntryID: "1", After: Record{"Status": "New"}}
				if m, err := cfg.Match(ev); err != nil || len(m) != 1 {
					t.Errorf("Match on the new name = %v, %v, want the rule", m, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse accepted it, want %q", tt.wantErr)
			}
			if first, _, _ := strings.Cut(err.Error(), "\n"); first != tt.wantErr {
				t.Errorf("error:\n got %s\nwant %s", first, tt.wantErr)
			}
		})
	}
}
