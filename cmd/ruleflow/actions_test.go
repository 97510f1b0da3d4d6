package main

import (
	"encoding/json"
	"strings"
	"testing"
)

const (
	actionsConfig = "testdata/actions.yaml"
	actionsEvents = "testdata/actions.jsonl"
)

// TestReplayActions: the values set, the rejection and a cascade stop are shown;
// a rejection is an outcome, not an error (exit 0).
func TestReplayActions(t *testing.T) {
	code, out, errOut := runCLI(t, "replay", "--config", actionsConfig, actionsEvents)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	golden(t, "replay_actions.golden", out)
	if !strings.Contains(errOut, `msg="engine: rule cascade stopped a change" form=Ticket entry_id=9005 event=update rule=Ping`) {
		t.Errorf("stderr lacks the cascade warning:\n%s", errOut)
	}

	code, out, _ = runCLI(t, "replay", "--format", "json", "--config", actionsConfig, actionsEvents)
	if code != 0 {
		t.Fatalf("json: exit %d", code)
	}
	golden(t, "replay_actions_json.golden", out)
	var actions int
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, l)
		}
		if _, ok := rec["callout"]; ok {
			continue
		}
		actions++
		for _, k := range []string{"file", "line", "event", "form", "entry_id"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("actions line lacks %q: %s", k, l)
			}
		}
		if rec["set"] == nil && rec["rejected"] == nil {
			t.Errorf("actions line with neither set nor rejected: %s", l)
		}
	}
	if actions != 3 {
		t.Errorf("%d action lines, want 3 (set, rejected, ping-pong)", actions)
	}
}

func TestEvalSet(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"--set", `Contact='First Name' + " " + 'Last Name'`, "--set", "Priority=2", "--set", "DueDate=$TIMESTAMP$ + 4*60*60",
			"--now", "2026-11-22T10:00:00Z", "--record", `{"First Name":"Ada","Last Name":"Lovelace"}`},
			0, "Contact = \"Ada Lovelace\"\nPriority = \"High\"\nDueDate = 2026-11-22T09:00:00-05:00\n", ""},
		{[]string{"--set", "Priority=\"Urgent\""}, 2, "",
			"--set Priority: qualification:1:1: unknown option \"Urgent\" for selection field 'Priority' (options: Low, Medium, High, Critical)\n\"Urgent\"\n^\n"},
		{[]string{"--set", "Nope=1"}, 1, "", "ruleflow: --set Nope=1: form \"Ticket\" has no field \"Nope\"\n"},
		{[]string{"--set", "Priority"}, 1, "", "ruleflow: --set \"Priority\": want FIELD=EXPRESSION\n"},
		{[]string{"--record", `{"Queue":"A"}`, "--set", "Queue=\"B\"", "'Queue' = \"A\""}, 0, "true\nQueue = \"B\"\n", ""},
	}
	for _, tc := range tests {
		args := append([]string{"eval", "--config", actionsConfig, "--form", "Ticket"}, tc.args...)
		code, out, errOut := runCLI(t, args...)
		if code != tc.code || out != tc.out || errOut != tc.err {
			t.Errorf("%q:\n got exit %d, stdout %q, stderr %q\nwant exit %d, stdout %q, stderr %q", tc.args, code, out, errOut, tc.code, tc.out, tc.err)
		}
	}
}
