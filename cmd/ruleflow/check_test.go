package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ruleflow/ruleflow/rules"
)

func TestCheckCommand(t *testing.T) {
	bad := writeFile(t, "bad.yaml", `version: 1
forms:
  Ticket: {fields: {Status: {type: character}}}
callouts:
  - {name: C, url: "http://127.0.0.1/", format: soap, password: hunter2}
rules:
  - name: R
    form: Ticket
    events: [update]
    condition: "'Stauts' = \"x\""
    callouts: [C, D]
`)
	syntax := writeFile(t, "syntax.yaml", "version: 1\nforms: [\n")
	missing := filepath.Join(t.TempDir(), "none.yaml")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{name: "demo config", args: []string{"check", "../../testdata/demo/ruleflow.yaml"},
			wantOut: "ok: 2 forms, 8 rules, 6 callouts, 2 webhooks\n"},
		{name: "every error", args: []string{"check", bad}, wantCode: 1,
			wantErr: bad + `:5:49: format soap needs method_name
 5 |   - {name: C, url: "http://127.0.0.1/", format: soap, password: *******}
   |                                                 ^
` + bad + `:5:49: format soap needs soap_action
 5 |   - {name: C, url: "http://127.0.0.1/", format: soap, password: *******}
   |                                                 ^
` + bad + `:5:65: password is set but username is empty
 5 |   - {name: C, url: "http://127.0.0.1/", format: soap, password: *******}
   |                                                                 ^
` + bad + `:10:17: invalid condition: unknown field 'Stauts'
 10 |     condition: "'Stauts' = \"x\""
    |                 ^
` + bad + `:11:19: unknown callout "D"
 11 |     callouts: [C, D]
    |                   ^
5 errors in ` + bad + "\n"},
		{name: "syntax error", args: []string{"check", syntax}, wantCode: 1,
			wantErr: syntax + ":2:8: sequence end token ']' not found\n 2 | forms: [\n   |        ^\n1 error in " + syntax + "\n"},
		{name: "missing file", args: []string{"check", missing}, wantCode: 1,
			wantErr: "ruleflow: open " + missing + ": no such file or directory\n"},
		{name: "no argument", args: []string{"check"}, wantCode: 1,
			wantErr: "ruleflow: accepts 1 arg(s), received 0\n"},
		{name: "schema with argument", args: []string{"check", "--print-schema", "x.yaml"}, wantCode: 1,
			wantErr: "ruleflow: unknown command \"x.yaml\" for \"ruleflow check\"\n"},
		{name: "print schema", args: []string{"check", "--print-schema"}, wantOut: string(rules.JSONSchema)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != tt.wantCode || stdout.String() != tt.wantOut || stderr.String() != tt.wantErr {
				t.Errorf("run(%q) = %d\nstdout:\n%s\nstderr:\n%s\nwant %d\nstdout:\n%s\nstderr:\n%s",
					tt.args, code, stdout.String(), stderr.String(), tt.wantCode, tt.wantOut, tt.wantErr)
			}
		})
	}
}

// TestCheckRefusesWhatCannotRender: check said ok for a callout with an
// Authorization header, and replay then failed every event that fired it. The
// single judge now refuses it in check, with its position.
func TestCheckRefusesWhatCannotRender(t *testing.T) {
	cfg := writeFile(t, "auth.yaml", `version: 1
forms:
  Ticket: {fields: {Status: {type: character}}}
callouts:
  - {name: C, url: "http://127.0.0.1/", format: json, headers: {Authorization: "Bearer abc"}}
rules:
  - {name: R, form: Ticket, events: [update], callouts: [C]}
`)
	var stdout, stderr bytes.Buffer
	code := run([]string{"check", cfg}, &stdout, &stderr)
	want := cfg + `:5:65: header "Authorization" may not be set: credentials are never stored with a request; set username and password`
	if code != 1 || !strings.HasPrefix(stderr.String(), want+"\n") || strings.Contains(stderr.String(), "Bearer abc") {
		t.Fatalf("check = %d\nstdout: %s\nstderr: %s\nwant 1 and %s", code, stdout.String(), stderr.String(), want)
	}
}

// TestCheckAcceptsTimeRules: the engine runs time-based rules, so check accepts them
// as Open and Reload do ("what check accepts must run").
func TestCheckAcceptsTimeRules(t *testing.T) {
	cfg := writeFile(t, "time.yaml", `version: 1
forms:
  Ticket: {fields: {DueDate: {type: datetime}}}
callouts:
  - {name: C, url: "http://127.0.0.1/", format: json}
rules:
  - {name: Late, form: Ticket, events: [time], at: {field: DueDate, offset: 2h}, callouts: [C]}
`)
	var stdout, stderr bytes.Buffer
	code := run([]string{"check", cfg}, &stdout, &stderr)
	if code != 0 || stderr.Len() != 0 || stdout.Len() == 0 {
		t.Fatalf("check = %d\nstdout: %s\nstderr: %s\nwant 0 and the summary", code, stdout.String(), stderr.String())
	}
}
