package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const actionsForm = `version: 1
forms:
  Ticket:
    fields:
      TicketNumber: {id: 2, type: character}
      Title:     {type: character}
      First:     {type: character}
      Last:      {type: character}
      Owner:     {type: character}
      Queue:     {type: character}
      Priority:  {type: selection, options: [Low, Medium, High, Critical]}
      Status:    {type: selection, options: [New, In Progress, Complete]}
      Resolution: {type: character}
      Count:     {type: integer}
      DueDate:   {type: datetime}
      Flag:      {type: character}
callouts:
  - {name: C1, url: "http://127.0.0.1:9/c1", format: json}
  - {name: U1, url: "http://127.0.0.1:9/u1", format: name-value, udf: Queue}
`

func TestActionErrors(t *testing.T) {
	src := actionsForm + `rules:
  - name: R1
    form: Ticket
    events: [create]
    set:
      Queue: '"Network" + 1'
      Count: '"many"'
      Priority: '"Urgent"'
      Nope: '"x"'
      DueDate: "$TIMESTAMP$ + 'Title'"
  - {name: R2, form: Ticket, events: [update], reject: "No", callouts: [C1]}
  - {name: R3, form: Ticket, events: [update], order: 1001, notify: {to: [lead@example.com], failures_only: true}}
  - {name: R4, form: Ticket, events: [delete], set: {Queue: '"x"'}}
  - {name: R5, form: Ticket, events: [update], reject: "  "}
  - {name: R6, form: Ticket, events: [update], set: {}}
  - {name: R7, form: Ticket, events: [update]}
  - {name: R8, form: Ticket, events: [update], set: {Title: "'Title' = \"x\""}}
`
	_, err := parseTest(t, src)
	want := []string{
		`25:25: invalid value for "Queue": cannot apply "+" to string "Network" and number 1`,
		`26:15: invalid value for "Count": cannot set integer field 'Count' to string "many"`,
		`27:18: invalid value for "Priority": unknown option "Urgent" for selection field 'Priority' (options: Low, Medium, High, Critical)`,
		`28:7: set: "Nope" is not a field of form "Ticket"`,
		`29:29: invalid value for "DueDate": cannot apply "+" to keyword $TIMESTAMP$ and character field 'Title'`,
		`30:56: a rule that rejects the save cannot also fire callouts, set fields or notify: a rejection enqueues and changes nothing`,
		`31:55: order 1001 is out of range (want 0 to 1000)`,
		`31:69: notify needs an smtp block at the top level of the configuration: without one no e-mail is ever sent`,
		`31:109: a rule's notify takes only to (failures_only applies to callout notifications)`,
		`32:53: set cannot change a deleted record (the rule listens for delete events)`,
		`33:56: reject needs a message`,
		`34:53: set must name at least one field`,
		`35:5: rule "R7" has no action: give it callouts, set, reject or notify`,
		`36:70: invalid value for "Title": a value expression cannot hold "=": set takes a value, not a condition`,
	}
	if diff := cmp.Diff(want, errLines(err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}

	// The whole text of one error: position inside the YAML string, excerpt, caret.
	_, err = parseTest(t, actionsForm+`rules:
  - name: R1
    form: Ticket
    events: [create]
    set: {Count: "'Count' + \"x\""}
`)
	wantText := `t.yaml:24:27: invalid value for "Count": cannot apply "+" to integer field 'Count' and string "x"
 24 |     set: {Count: "'Count' + \"x\""}
    |                           ^`
	if err == nil || err.Error() != wantText {
		t.Errorf("error text:\n%v\nwant:\n%s", err, wantText)
	}
}

func runEvent(t *testing.T, cfg *Config, ev *Event) *Outcome {
	t.Helper()
	out := cfg.Run(ev)
	if out.Errors != nil {
		t.Fatalf("Run: %v", out.Errors)
	}
	return out
}

func firedRules(o *Outcome) []string {
	var out []string
	for _, m := range o.Matches {
		out = append(out, m.Rule.Name)
	}
	return out
}

func TestRunOrderAndVisibility(t *testing.T) {
	cfg := mustParse(t, actionsForm+`rules:
  - name: notify critical
    form: Ticket
    events: [create]
    condition: "'Priority' = \"Critical\""
    notify: {to: [lead@example.com]}
  - name: route network
    form: Ticket
    events: [create]
    condition: "'Title' LIKE \"%router%\""
    order: 100
    set:
      Queue: '"Network"'
      Priority: '"Critical"'
      DueDate: "$TIMESTAMP$ + 4*60*60"
      Owner: "'First' + \" \" + 'Last'"
  - name: network callout
    form: Ticket
    events: [create]
    condition: "'Queue' = \"Network\" AND 'TR.Queue' != $NULL$"
    order: 200
    callouts: [U1]
smtp: {host: 127.0.0.1, port: 2525, tls: none, from: ruleflow@example.com}
`)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	ev := &Event{Kind: KindCreate, Form: "Ticket", EntryID: "1", Time: now,
		After: Record{"Title": "router down", "Priority": "Low", "First": "Ada", "Last": "Lovelace"}}
	out := runEvent(t, cfg, ev)
	if got, want := firedRules(out), []string{"route network", "network callout", "notify critical"}; !cmp.Equal(got, want) {
		t.Errorf("fired %q, want %q", got, want)
	}
	wantSet := []Assignment{
		{Rule: "route network", Field: "Queue", Value: "Network", Pass: 1},
		{Rule: "route network", Field: "Priority", Value: "Critical", Pass: 1},
		{Rule: "route network", Field: "DueDate", Value: now.Add(4 * time.Hour), Pass: 1},
		{Rule: "route network", Field: "Owner", Value: "Ada Lovelace", Pass: 1},
	}
	if diff := cmp.Diff(wantSet, out.Set); diff != "" {
		t.Errorf("set (-want +got):\n%s", diff)
	}
	if out.Passes != 2 {
		t.Errorf("passes = %d, want 2 (the second finds nothing left to fire)", out.Passes)
	}
	// The UDF of U1 is Queue: set by a rule, so the callout fires on the final values.
	if m := out.Matches[1]; len(m.Fire) != 1 || m.Fire[0].Name != "U1" {
		t.Errorf("network callout: fire %v, skipped %v", m.Fire, m.Skipped)
	}
	if ev.After["Queue"] != nil || len(ev.Set) != 0 {
		t.Errorf("Run changed the caller's event: %v %v", ev.After, ev.Set)
	}
	if out.Event.After["Queue"] != "Network" || out.Event.After["Title"] != "router down" {
		t.Errorf("final event after = %v", out.Event.After)
	}
}

func TestRunTRAfterSet(t *testing.T) {
	cfg := mustParse(t, actionsForm+`rules:
  - {name: set flag, form: Ticket, events: [update], set: {Flag: "'Flag'"}}
  - {name: sees TR, form: Ticket, events: [update], condition: "'TR.Flag' != $NULL$", callouts: [C1]}
`)
	// Flag keeps its stored value, so only the rule's set makes 'TR.Flag' non-NULL.
	ev := &Event{Kind: KindUpdate, Form: "Ticket", Before: Record{"Flag": "x", "Title": "a"}, After: Record{"Flag": "x", "Title": "b"}}
	out := runEvent(t, cfg, ev)
	if got, want := firedRules(out), []string{"set flag", "sees TR"}; !cmp.Equal(got, want) {
		t.Errorf("fired %q, want %q", got, want)
	}
	if !cmp.Equal(out.Event.Set, []string{"Title", "Flag"}) {
		t.Errorf("set fields = %q, want the transaction's (Title) and the rule's (Flag)", out.Event.Set)
	}
}

func TestRunReject(t *testing.T) {
	cfg := mustParse(t, actionsForm+`rules:
  - {name: first, form: Ticket, events: [update], set: {Queue: '"Q"'}}
  - name: needs resolution
    form: Ticket
    events: [update]
    condition: "'Status' = \"Complete\" AND 'Resolution' = $NULL$"
    reject: "A resolution is required to complete a ticket"
  - {name: never, form: Ticket, events: [update], callouts: [C1]}
`)
	ev := &Event{Kind: KindUpdate, Form: "Ticket", Before: Record{"Status": "New"}, After: Record{"Status": "Complete"}}
	out := runEvent(t, cfg, ev)
	if out.Rejected == nil || *out.Rejected != (Rejection{Rule: "needs resolution", Message: "A resolution is required to complete a ticket"}) {
		t.Fatalf("rejected = %+v", out.Rejected)
	}
	if got := firedRules(out); !cmp.Equal(got, []string{"needs resolution"}) {
		t.Errorf("matches %q, want only the rejecting rule", got)
	}
	ev.After["Resolution"] = "fixed"
	if out := runEvent(t, cfg, ev); out.Rejected != nil {
		t.Errorf("rejected with a resolution: %+v", out.Rejected)
	}
}

func TestRunCascade(t *testing.T) {
	// Each rule reacts to the one below it, so every pass fires one rule.
	cfg := mustParse(t, actionsForm+`rules:
  - {name: R3, form: Ticket, events: [create], condition: "'Count' = 2", set: {Count: "'Count' + 1"}}
  - {name: R2, form: Ticket, events: [create], condition: "'Count' = 1", set: {Count: "'Count' + 1"}}
  - {name: R1, form: Ticket, events: [create], condition: "'Count' = 0", set: {Count: "'Count' + 1"}}
`)
	out := runEvent(t, cfg, &Event{Kind: KindCreate, Form: "Ticket", After: Record{"Count": int64(0)}})
	if got := firedRules(out); !cmp.Equal(got, []string{"R1", "R2", "R3"}) {
		t.Errorf("fired %q", got)
	}
	if out.Passes != 4 || out.Event.After["Count"] != int64(3) || len(out.Limited) != 0 {
		t.Errorf("passes %d, count %v, limited %v", out.Passes, out.Event.After["Count"], out.Limited)
	}
	if p := []int{out.Set[0].Pass, out.Set[1].Pass, out.Set[2].Pass}; !cmp.Equal(p, []int{1, 2, 3}) {
		t.Errorf("passes of the sets: %v", p)
	}
}

func TestRunPassLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString(actionsForm + "rules:\n")
	for i := 6; i >= 0; i-- { // R6 first: each pass fires the next rule of the chain
		b.WriteString("  - {name: R" + string(rune('0'+i)) + ", form: Ticket, events: [create], condition: \"'Count' = " + string(rune('0'+i)) + "\", set: {Count: \"'Count' + 1\"}}\n")
	}
	cfg := mustParse(t, b.String())
	out := runEvent(t, cfg, &Event{Kind: KindCreate, Form: "Ticket", After: Record{"Count": int64(0)}})
	if out.Passes != MaxPasses || out.Event.After["Count"] != int64(5) {
		t.Errorf("passes %d, count %v; want %d passes, count 5", out.Passes, out.Event.After["Count"], MaxPasses)
	}
	want := []Limit{{Rule: "R5", Reason: "its condition holds after the last of 5 passes; it did not fire"}}
	if diff := cmp.Diff(want, out.Limited); diff != "" {
		t.Errorf("limited (-want +got):\n%s", diff)
	}
}

func TestRunPingPong(t *testing.T) {
	cfg := mustParse(t, actionsForm+`rules:
  - {name: ping, form: Ticket, events: [update], condition: "'Queue' = \"A\"", set: {Queue: '"B"'}}
  - {name: pong, form: Ticket, events: [update], condition: "'Queue' = \"B\"", set: {Queue: '"A"'}}
`)
	out := runEvent(t, cfg, &Event{Kind: KindUpdate, Form: "Ticket", Before: Record{"Queue": "X"}, After: Record{"Queue": "A"}})
	if got := firedRules(out); !cmp.Equal(got, []string{"ping", "pong"}) {
		t.Errorf("fired %q", got)
	}
	if out.Event.After["Queue"] != "A" {
		t.Errorf("Queue = %v, want A (pong's value)", out.Event.After["Queue"])
	}
	want := []Limit{{Rule: "ping", Reason: "its condition holds again after another rule changed a value it set; a rule fires at most once per event"}}
	if diff := cmp.Diff(want, out.Limited); diff != "" {
		t.Errorf("limited (-want +got):\n%s", diff)
	}
}

func TestRunSetError(t *testing.T) {
	cfg := mustParse(t, actionsForm+`rules:
  - {name: div, form: Ticket, events: [create], set: {Count: "10 / 'Count'"}}
  - {name: other, form: Ticket, events: [create], callouts: [C1]}
`)
	out := cfg.Run(&Event{Kind: KindCreate, Form: "Ticket", After: Record{"Count": int64(0)}})
	if out.Errors == nil || !strings.Contains(out.Errors.Error(), `rule "div": set "Count": qualification:1:4: division by zero`) {
		t.Errorf("errors = %v", out.Errors)
	}
	if got := firedRules(out); !cmp.Equal(got, []string{"other"}) {
		t.Errorf("fired %q, want only other", got)
	}
}
