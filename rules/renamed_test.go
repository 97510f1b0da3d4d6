package rules

import (
	"strings"
	"testing"
)

// TestRenamedFrom: renamed_from is accepted, and each misuse is a positioned error.
func TestRenamedFrom(t *testing.T) {
	const head = "version: 1\ncallouts:\n"
	tests := []struct {
		name, src, wantErr string
	}{
		{"ok", `  - {name: New, url: "http://127.0.0.1:9/x", format: name-value, renamed_from: [Old, Older]}
`, ""},
		{"empty", `  - {name: New, url: "http://127.0.0.1:9/x", format: name-value, renamed_from: [""]}
`, `test.yaml:3:81: renamed_from entry must not be empty`},
		{"own name", `  - {name: New, url: "http://127.0.0.1:9/x", format: name-value, renamed_from: [New]}
`, `test.yaml:3:81: callout "New" lists its own name in renamed_from`},
		{"still configured", `  - {name: New, url: "http://127.0.0.1:9/x", format: name-value, renamed_from: [Old]}
  - {name: Old, url: "http://127.0.0.1:9/y", format: name-value}
`, `test.yaml:3:81: renamed_from "Old" names a callout that is still configured (line 4)`},
		{"twice", `  - {name: New, url: "http://127.0.0.1:9/x", format: name-value, renamed_from: [Old, Old]}
`, `test.yaml:3:86: renamed_from lists "Old" twice`},
		{"claimed by two", `  - {name: A, url: "http://127.0.0.1:9/x", format: name-value, renamed_from: [Old]}
  - {name: B, url: "http://127.0.0.1:9/y", format: name-value, renamed_from: [Old]}
`, `test.yaml:4:79: renamed_from "Old" is already claimed by callout "A" (line 3)`},
		{"not a list", `  - {name: New, url: "http://127.0.0.1:9/x", format: name-value, renamed_from: Old}
`, `test.yaml:3:80: expected a list, got the string "Old"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("test.yaml", []byte(head+tt.src))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if got := cfg.Callouts[0].RenamedFrom; strings.Join(got, ",") != "Old,Older" {
					t.Errorf("RenamedFrom = %q", got)
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
