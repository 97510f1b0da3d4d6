package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestEvalAgreesWithReplay runs the same JSON record through `ruleflow eval` and
// `ruleflow replay` (the path of Handle) and asserts the same decision: both decode
// it with rules.DecodeRecord. Before, eval kept a selection given by index as the
// index and a date field as the full date-time.
func TestEvalAgreesWithReplay(t *testing.T) {
	tests := []struct {
		name, record, condition string
		want                    bool
	}{
		{"selection by name", `{"Status":"Complete"}`, `'Status' = "Complete"`, true},
		{"selection by index", `{"Status":3}`, `'Status' LIKE "Comp%"`, true},
		{"selection by index, other option", `{"Status":0}`, `'Status' LIKE "Comp%"`, false},
		{"field by ID", `{"7":"Complete"}`, `'Status' = "Complete"`, true},
		{"date is a day in the zone", `{"Due":"2022-04-01T02:00:00Z"}`, `'Due' = "03/31/2022"`, true},
		{"datetime as epoch seconds", `{"CreateDate":1637423014}`, `'CreateDate' = "2021-11-20T15:43:34Z"`, true},
		{"attachment present", `{"File":{"name":"a.txt","content_type":"text/plain","data_base64":"aGk="}}`, `'File' != $NULL$`, true},
		{"null", `{"Title":null}`, `'Title' = $NULL$`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeFile(t, "ruleflow.yaml", fmt.Sprintf(`version: 1
timezone: America/New_York
forms:
  Ticket:
    fields:
      TicketID:   {id: 1, type: integer}
      Title:      {id: 8, type: character}
      Status:     {id: 7, type: selection, options: [New, In Progress, Waiting Customer, Complete]}
      CreateDate: {id: 3, type: datetime}
      Due:        {id: 4, type: date}
      File:       {id: 5, type: attachment}
callouts:
  - name: hook
    url: http://127.0.0.1:9/hook
    method: GET
    format: name-value
rules:
  - name: decision
    form: Ticket
    events: [create]
    condition: %q
    callouts: [hook]
`, tc.condition))
			code, out, errOut := runCLI(t, "eval", "--config", cfg, "--form", "Ticket", "--event", "create", "--record", tc.record, tc.condition)
			if code != 0 {
				t.Fatalf("eval: exit %d, stderr:\n%s", code, errOut)
			}
			evalSays := strings.TrimSpace(out) == "true"
			fixture := writeFile(t, "events.jsonl", `{"event":"create","form":"Ticket","entry_id":"1","time":"2026-11-22T10:00:00Z","after":`+tc.record+"}\n")
			code, out, errOut = runCLI(t, "replay", "--config", cfg, fixture)
			if code != 0 {
				t.Fatalf("replay: exit %d, stderr:\n%s", code, errOut)
			}
			replaySays := strings.Contains(out, `rule "decision" fired`)
			if evalSays != replaySays || evalSays != tc.want {
				t.Errorf("eval says %v, replay says %v, want %v\nreplay output:\n%s", evalSays, replaySays, tc.want, out)
			}
		})
	}
}
