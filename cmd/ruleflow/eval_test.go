package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const testConfig = `version: 1
timezone: America/New_York
forms:
  Ticket:
    fields:
      TicketID:        {id: 1, type: integer}
      TicketNumber:    {id: 2, type: character}
      Status:          {id: 7, type: selection, options: [New, In Progress, Waiting Customer, Complete]}
      CreateDate:      {id: 3, type: datetime}
      RMM Alert ID:    {id: 536870913, type: character}
    callout_fields: {id: TicketID, number: TicketNumber, status: Status}
  Other:
    fields:
      Name: {type: character}
callouts:
  - name: not read by eval
    url: https://example.com
    whatever: [1, 2]
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEvalCommand(t *testing.T) {
	cfg := writeFile(t, "ruleflow.yaml", testConfig)
	bad := writeFile(t, "bad.yaml", "forms: [\n")
	rec := writeFile(t, "ticket.json", `{"Status":"Complete","TicketNumber":"T20211120.0001","CreateDate":"2021-11-20T10:43:34Z"}`)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{
			name: "no schema true", wantCode: 0, wantOut: "true\n",
			args: []string{"eval", "--record", `{"Status":"New","Priority":3}`, `'Status' = "New" AND 'Priority' >= 2`},
		},
		{
			name: "no schema false", wantCode: 0, wantOut: "false\n",
			args: []string{"eval", "--record", `{"Status":"New","Priority":1}`, `'Status' = "New" AND 'Priority' >= 2`},
		},
		{
			name: "schema TR update", wantCode: 0, wantOut: "true\n",
			args: []string{"eval", "--config", cfg, "--form", "Ticket", "--event", "update", "--before", `{"Status":"New"}`, "--record", "@" + rec,
				`'Status' = "Complete" AND 'TR.Status' != $NULL$ AND 'DB.Status' < "Complete"`},
		},
		{
			name: "schema date in config zone", wantCode: 0, wantOut: "true\n",
			args: []string{"eval", "--config", cfg, "--form", "Ticket", "--record", "@" + rec, `'CreateDate' = "11/20/2021 5:43:34 AM"`},
		},
		{
			name: "timezone flag overrides config", wantCode: 0, wantOut: "true\n",
			args: []string{"eval", "--config", cfg, "--form", "Ticket", "--timezone", "UTC", "--record", "@" + rec, `'CreateDate' = "11/20/2021 10:43:34 AM"`},
		},
		{
			name: "config nulls and case", wantCode: 0, wantOut: "false\n",
			args: []string{"eval", "--config", writeFile(t, "s.yaml", "nulls: search\ncase_insensitive: true\nforms: {F: {fields: {A: {type: character}}}}\n"), "--record", `{}`, `'A' != "x"`},
		},
		{
			name: "config case-insensitive", wantCode: 0, wantOut: "true\n",
			args: []string{"eval", "--config", writeFile(t, "c.yaml", "case_insensitive: true\nforms: {F: {fields: {A: {type: character}}}}\n"), "--record", `{"A":"ABC"}`, `'A' = "abc"`},
		},
		{
			name: "bad config YAML", wantCode: 1,
			args:    []string{"eval", "--config", bad, `'A' = 1`},
			wantErr: "ruleflow: --config: " + bad + ": [1:8] sequence end token ']' not found\n>  1 | forms: [\n              ^\n",
		},
		{
			name: "delete reads the record", wantCode: 0, wantOut: "true\n",
			args: []string{"eval", "--event", "delete", "--record", `{"Status":"New"}`, `'Status' = "New" AND 'TR.Status' = $NULL$ AND $OPERATION$ = "DELETE"`},
		},
		{
			name: "user and now", wantCode: 0, wantOut: "true\n",
			args: []string{"eval", "--user", "jsmith", "--now", "2026-11-22T10:00:00Z", "--record", `{"Assignee":"jsmith"}`, `'Assignee' = $USER$ AND $WEEKDAY$ = "Sunday"`},
		},
		{
			name: "search nulls", wantCode: 0, wantOut: "false\n",
			args: []string{"eval", "--nulls", "search", "--record", `{}`, `'Status' != "Closed"`},
		},
		{
			name: "workflow nulls", wantCode: 0, wantOut: "true\n",
			args: []string{"eval", "--record", `{}`, `'Status' != "Closed"`},
		},
		{
			name: "invalid qualification", wantCode: 2,
			args:    []string{"eval", `'Status' = "New`},
			wantErr: "qualification:1:12: unterminated string \"New\n'Status' = \"New\n           ^\n",
		},
		{
			name: "unknown field with schema", wantCode: 2,
			args:    []string{"eval", "--config", cfg, "--form", "Ticket", `'Assignee Login ID' = "x"`},
			wantErr: "qualification:1:1: unknown field 'Assignee Login ID'\n'Assignee Login ID' = \"x\"\n^\n",
		},
		{
			name: "runtime error", wantCode: 1,
			args:    []string{"eval", "--record", `{"A":1,"B":0}`, `'A' / 'B' = 1`},
			wantErr: "ruleflow: qualification:1:5: division by zero\n'A' / 'B' = 1\n    ^\n",
		},
		{
			name: "bad nulls", wantCode: 1, args: []string{"eval", "--nulls", "maybe", `'A' = 1`},
			wantErr: "ruleflow: --nulls: unknown nulls mode \"maybe\" (want workflow or search)\n",
		},
		{
			name: "bad event", wantCode: 1, args: []string{"eval", "--event", "merge", `'A' = 1`},
			wantErr: "ruleflow: --event: unknown event kind \"merge\" (want create, update, delete, callback or external)\n",
		},
		{
			name: "bad record JSON", wantCode: 1, args: []string{"eval", "--record", `{"A":`, `'A' = 1`},
			wantErr: "ruleflow: --record: invalid JSON object: unexpected EOF\n",
		},
		{
			name: "missing record file", wantCode: 1, args: []string{"eval", "--record", "@/nonexistent/r.json", `'A' = 1`},
			wantErr: "ruleflow: --record: open /nonexistent/r.json: no such file or directory\n",
		},
		{
			name: "missing config", wantCode: 1, args: []string{"eval", "--config", "/nonexistent/c.yaml", `'A' = 1`},
			wantErr: "ruleflow: --config: open /nonexistent/c.yaml: no such file or directory\n",
		},
		{
			name: "form required", wantCode: 1, args: []string{"eval", "--config", cfg, `'A' = 1`},
			wantErr: "ruleflow: --form is required: " + cfg + " defines 2 forms (Other, Ticket)\n",
		},
		{
			name: "unknown form", wantCode: 1, args: []string{"eval", "--config", cfg, "--form", "Nope", `'A' = 1`},
			wantErr: "ruleflow: --form: " + cfg + " has no form \"Nope\" (forms: Other, Ticket)\n",
		},
		{
			name: "form without config", wantCode: 1, args: []string{"eval", "--form", "Ticket", `'A' = 1`},
			wantErr: "ruleflow: --form needs --config\n",
		},
		{
			name: "record field not in form", wantCode: 1,
			args:    []string{"eval", "--config", cfg, "--form", "Ticket", "--record", `{"Nope":1}`, `'Status' = "New"`},
			wantErr: "ruleflow: --record: unknown field \"Nope\" of form \"Ticket\"\n",
		},
		{
			name: "record value of wrong type", wantCode: 1,
			args:    []string{"eval", "--config", cfg, "--form", "Ticket", "--record", `{"TicketID":"x"}`, `'Status' = "New"`},
			wantErr: "ruleflow: --record: field \"TicketID\": want an integer, got string \"x\"\n",
		},
		{
			name: "record option unknown", wantCode: 1,
			args:    []string{"eval", "--config", cfg, "--form", "Ticket", "--record", `{"Status":"Open"}`, `'Status' = "New"`},
			wantErr: "ruleflow: --record: field \"Status\": unknown option \"Open\" (want \"New\", \"In Progress\", \"Waiting Customer\" or \"Complete\", or an index 0 to 3)\n",
		},
		{
			name: "bad now", wantCode: 1, args: []string{"eval", "--now", "soon", `'A' = 1`},
			wantErr: "ruleflow: --now: cannot read \"soon\" as a date-time (want RFC 3339 (2006-01-02T15:04:05Z07:00), 2006-01-02 15:04:05, 2006-01-02, 01/02/2006, 01/02/06, 1/2/2006 3:04:05 PM, 1/2/2006 3:04PM, January 2, 2006)\n",
		},
		{
			name: "bad timezone", wantCode: 1, args: []string{"eval", "--timezone", "Mars/Base", `'A' = 1`},
			wantErr: "ruleflow: --timezone: unknown time zone \"Mars/Base\"\n",
		},
		{
			name: "no qualification", wantCode: 1, args: []string{"eval"},
			wantErr: "ruleflow: eval needs a QUALIFICATION or --set FIELD=EXPRESSION\n",
		},
		{
			name: "unknown flag", wantCode: 1, args: []string{"eval", "--bogus", `'A' = 1`},
			wantErr: "ruleflow: unknown flag: --bogus\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			if diff := cmp.Diff(tt.wantOut, stdout.String()); diff != "" {
				t.Errorf("stdout mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErr, stderr.String()); diff != "" {
				t.Errorf("stderr mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"version"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d, stderr %q", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "ruleflow ") || !strings.HasSuffix(stdout.String(), "\n") || strings.Count(stdout.String(), "\n") != 1 {
		t.Errorf("version output %q, want one line \"ruleflow <version>\"", stdout.String())
	}
}

func TestRootHelpListsSubcommands(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--help"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	for _, want := range []string{"eval", "version"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("help does not list %q:\n%s", want, stdout.String())
		}
	}
}
