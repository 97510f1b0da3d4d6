package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const matchConfig = `version: 1
forms:
  Ticket:
    fields:
      TicketID: {id: 1, type: integer}
      Status: {id: 7, type: selection, options: [New, In Progress, Complete]}
      Title: {id: 3, type: character}
      RMM Alert ID: {id: 9, type: character}
      Modified: {id: 6, type: datetime}
      File: {id: 10, type: attachment}
      Assignee: {id: 4, type: character}
  HPD:
    fields:
      Status: {type: selection, options: [New, Closed]}
callouts:
  - {name: RMM, url: "http://127.0.0.1:9/rmm", format: name-value, udf: RMM Alert ID}
  - {name: Dash, url: "http://127.0.0.1:9/dash", format: json}
  - {name: Off, url: "http://127.0.0.1:9/off", format: json, active: false}
rules:
  - {name: completed, form: Ticket, events: [update], condition: "'Status' = \"Complete\" AND 'TR.Status' != $NULL$", callouts: [RMM, Dash, Off]}
  - {name: reopened, form: Ticket, events: [update], condition: "'DB.Status' = \"Complete\" AND 'Status' != \"Complete\"", callouts: [Dash]}
  - {name: by bot, form: Ticket, events: [create, update], condition: "$USER$ = \"bot\"", callouts: [Dash]}
  - {name: disabled, active: false, form: Ticket, events: [create, update, delete], callouts: [Dash]}
  - {name: deleted new, form: Ticket, events: [delete], condition: "'Status' = \"New\"", callouts: [Dash]}
  - {name: modified, form: Ticket, events: [update], condition: "'Title' = \"tr\" AND 'TR.Modified' != $NULL$", callouts: [Dash]}
  - {name: file, form: Ticket, events: [update], condition: "'Title' = \"tr\" AND 'TR.File' != $NULL$", callouts: [Dash]}
  - {name: nulls workflow, form: Ticket, events: [update], condition: "'Title' = \"nulls\" AND 'Assignee' != \"x\"", callouts: [Dash]}
  - {name: nulls search, nulls: search, form: Ticket, events: [update], condition: "'Title' = \"nulls\" AND 'Assignee' != \"x\"", callouts: [Dash]}
  - {name: always, form: Ticket, events: [create], callouts: [Off, RMM]}
webhooks:
  - {webhook_id: W1, form_name: HPD, entry_events: [create], condition: "'Status' != \"Closed\"", callback: {url: "http://127.0.0.1:9/w1"}}
  - {webhook_id: W2, form_name: HPD, entry_events: [create], enabled: false, callback: {url: "http://127.0.0.1:9/w2"}}
`

// describeMatches renders matches as "rule: fire=A,B skip=C(reason)".
func describeMatches(ms []Match) []string {
	var out []string
	for _, m := range ms {
		var fire, skip []string
		for _, c := range m.Fire {
			fire = append(fire, c.Name)
		}
		for _, s := range m.Skipped {
			skip = append(skip, s.Callout.Name+"("+s.Reason+")")
		}
		line := m.Rule.Name + ": fire=" + strings.Join(fire, ",")
		if len(skip) > 0 {
			line += " skip=" + strings.Join(skip, ",")
		}
		out = append(out, line)
	}
	return out
}

func TestMatch(t *testing.T) {
	c := mustParse(t, matchConfig)
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	ny, _ := time.LoadLocation("America/New_York")
	tk := func(status string, kv ...any) Record {
		r := Record{"TicketID": int64(8176), "Status": status, "Title": "t"}
		for i := 0; i+1 < len(kv); i += 2 {
			r[kv[i].(string)] = kv[i+1]
		}
		return r
	}
	update := func(before, after Record) *Event {
		return &Event{Kind: KindUpdate, Form: "Ticket", EntryID: "8176", User: "jsmith", Time: t0, Before: before, After: after}
	}
	withSet := func(ev *Event, set ...string) *Event { ev.Set = set; return ev }
	tests := []struct {
		name string
		ev   *Event
		want []string
	}{
		{"completed with udf", update(tk("In Progress", "RMM Alert ID", "A1"), tk("Complete", "RMM Alert ID", "A1")),
			[]string{"completed: fire=RMM,Dash skip=Off(inactive)"}},
		{"completed without udf", update(tk("In Progress"), tk("Complete")),
			[]string{"completed: fire=Dash skip=RMM(udf RMM Alert ID empty),Off(inactive)"}},
		{"completed with empty udf", update(tk("In Progress", "RMM Alert ID", ""), tk("Complete", "RMM Alert ID", "")),
			[]string{"completed: fire=Dash skip=RMM(udf RMM Alert ID empty),Off(inactive)"}},
		{"completed with NULL udf", update(tk("In Progress", "RMM Alert ID", nil), tk("Complete", "RMM Alert ID", nil)),
			[]string{"completed: fire=Dash skip=RMM(udf RMM Alert ID empty),Off(inactive)"}},
		{"status unchanged", update(tk("Complete"), tk("Complete")), nil},
		{"status written unchanged (explicit set)", withSet(update(tk("Complete"), tk("Complete")), "Status"),
			[]string{"completed: fire=Dash skip=RMM(udf RMM Alert ID empty),Off(inactive)"}},
		{"explicit set without status", withSet(update(tk("New"), tk("Complete")), "Title"), nil},
		{"reopened", update(tk("Complete"), tk("In Progress")), []string{"reopened: fire=Dash"}},
		{"by bot on create", &Event{Kind: KindCreate, Form: "Ticket", User: "bot", Time: t0, After: tk("New")},
			[]string{"by bot: fire=Dash", "always: fire= skip=Off(inactive),RMM(udf RMM Alert ID empty)"}},
		{"create with udf", &Event{Kind: KindCreate, Form: "Ticket", User: "jsmith", Time: t0, After: tk("New", "RMM Alert ID", "X")},
			[]string{"always: fire=RMM skip=Off(inactive)"}},
		{"rules in config order", &Event{Kind: KindUpdate, Form: "Ticket", User: "bot", Time: t0, Before: tk("In Progress"), After: tk("Complete")},
			[]string{"completed: fire=Dash skip=RMM(udf RMM Alert ID empty),Off(inactive)", "by bot: fire=Dash"}},
		{"delete reads before", &Event{Kind: KindDelete, Form: "Ticket", Time: t0, Before: tk("New")}, []string{"deleted new: fire=Dash"}},
		{"delete other status", &Event{Kind: KindDelete, Form: "Ticket", Time: t0, Before: tk("Complete")}, nil},
		{"same instant in another zone is unchanged",
			update(tk("New", "Title", "tr", "Modified", t0), tk("New", "Title", "tr", "Modified", t0.In(ny))), nil},
		{"datetime changed",
			update(tk("New", "Title", "tr", "Modified", t0), tk("New", "Title", "tr", "Modified", t0.Add(time.Second))),
			[]string{"modified: fire=Dash"}},
		{"equal attachments are unchanged",
			update(tk("New", "Title", "tr", "File", &Attachment{Name: "a.png", Data: []byte{1, 2}}),
				tk("New", "Title", "tr", "File", &Attachment{Name: "a.png", Data: []byte{1, 2}})), nil},
		{"attachment changed",
			update(tk("New", "Title", "tr", "File", &Attachment{Name: "a.png", Data: []byte{1, 2}}),
				tk("New", "Title", "tr", "File", &Attachment{Name: "a.png", Data: []byte{1, 3}})),
			[]string{"file: fire=Dash"}},
		{"NULL per-rule modes", update(tk("New", "Title", "nulls"), tk("New", "Title", "nulls")),
			[]string{"nulls workflow: fire=Dash"}},
		{"NULL modes with a value", update(tk("New", "Title", "nulls", "Assignee", "y"), tk("New", "Title", "nulls", "Assignee", "y")),
			[]string{"nulls workflow: fire=Dash", "nulls search: fire=Dash"}},
		{"unknown form", &Event{Kind: KindUpdate, Form: "Nope", Time: t0}, nil},
		{"kind without rules", &Event{Kind: KindCallback, Form: "Ticket", Time: t0}, nil},
		{"webhook as rule; disabled webhook does not fire", &Event{Kind: KindCreate, Form: "HPD", Time: t0, After: Record{"Status": "New"}},
			[]string{"webhook W1: fire=webhook W1"}},
		{"webhook condition false", &Event{Kind: KindCreate, Form: "HPD", Time: t0, After: Record{"Status": "Closed"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := c.Match(tt.ev)
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if diff := cmp.Diff(tt.want, describeMatches(ms)); diff != "" {
				t.Errorf("matches (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMatchEvalErrorDoesNotStopOtherRules(t *testing.T) {
	c := mustParse(t, `version: 1
forms:
  Ticket: {fields: {N: {type: integer}}}
callouts: [{name: C, url: "http://127.0.0.1/", format: json}]
rules:
  - {name: divides, form: Ticket, events: [create], condition: "10 / 'N' > 1", callouts: [C]}
  - {name: always, form: Ticket, events: [create], callouts: [C]}
`)
	ms, err := c.Match(&Event{Kind: KindCreate, Form: "Ticket", After: Record{"N": int64(0)}})
	if got := describeMatches(ms); !cmp.Equal(got, []string{"always: fire=C"}) {
		t.Errorf("matches = %q, want only the rule that evaluates", got)
	}
	if err == nil || !strings.HasPrefix(err.Error(), `rule "divides": `) {
		t.Errorf("error = %v, want one naming rule \"divides\"", err)
	}
}

func TestMatchUnbuiltConfig(t *testing.T) {
	_, err := (&Config{}).Match(&Event{})
	want := "rules: Match on a Config that was not built by Load, Parse or WithWebhooks"
	if err == nil || err.Error() != want {
		t.Errorf("Match on zero Config: %v, want %q", err, want)
	}
}

func TestWebhookRule(t *testing.T) {
	c := mustParse(t, `version: 1
forms:
  HPD:HelpDesk: {fields: {Status: {type: character}, Description: {type: character}}}
webhooks:
  - webhook_id: WBH1
    form_name: HPD:HelpDesk
    entry_events: [create, update]
    payload_fields: [Description]
    callback:
      url: http://127.0.0.1:9000/webhook
      headers: {X-A: b}
      authentication: {type: BASIC, username: Demo, password: Demo123}
`)
	r := c.WebhookRules()[0]
	co := r.Targets[0]
	want := Callout{Name: "webhook WBH1", URL: "http://127.0.0.1:9000/webhook", Method: "POST", Format: FormatJSON,
		Username: "Demo", Password: "Demo123", Timeout: Duration(20 * time.Second),
		Retry: Retry{Interval: Duration(time.Minute), Max: intPtr(10)}, Headers: map[string]string{"X-A": "b"},
		PayloadFields: []string{"Description"}, WebhookID: "WBH1", EnumFormat: EnumValue}
	if diff := cmp.Diff(want, *co); diff != "" {
		t.Errorf("webhook callout (-want +got):\n%s", diff)
	}
	if r.Form != "HPD:HelpDesk" || r.Webhook != c.Webhooks[0] || !r.IsActive() || r.Program != nil || !cmp.Equal(r.Events, []Kind{KindCreate, KindUpdate}) {
		t.Errorf("webhook rule = %+v", r)
	}
}

func TestWithWebhooks(t *testing.T) {
	c := mustParse(t, matchConfig)
	ev := &Event{Kind: KindUpdate, Form: "HPD", After: Record{"Status": "New"}}
	extra := []*Webhook{{WebhookID: "W3", FormName: "HPD", EntryEvents: []Kind{KindUpdate}, Condition: "'Status' = \"New\"",
		Callback: WebhookCallback{URL: "http://127.0.0.1:9/w3"}}}
	nc, err := c.WithWebhooks(extra)
	if err != nil {
		t.Fatalf("WithWebhooks: %v", err)
	}
	ms, _ := nc.Match(ev)
	if got := describeMatches(ms); !cmp.Equal(got, []string{"webhook W3: fire=webhook W3"}) {
		t.Errorf("new config matches %q", got)
	}
	if ms, _ := c.Match(ev); len(ms) != 0 {
		t.Errorf("original config changed: matches %q", describeMatches(ms))
	}
	if len(c.Webhooks) != 2 || len(nc.Webhooks) != 3 || nc.Summary() != "ok: 2 forms, 10 rules, 3 callouts, 3 webhooks" {
		t.Errorf("webhooks: old %d, new %d; %s", len(c.Webhooks), len(nc.Webhooks), nc.Summary())
	}
	// The new config still matches the configured rules and the old webhooks.
	ms, _ = nc.Match(&Event{Kind: KindCreate, Form: "HPD", After: Record{"Status": "New"}})
	if got := describeMatches(ms); !cmp.Equal(got, []string{"webhook W1: fire=webhook W1"}) {
		t.Errorf("old webhooks in new config: %q", got)
	}
}

func TestWithWebhooksErrors(t *testing.T) {
	c := mustParse(t, matchConfig)
	cb := WebhookCallback{URL: "http://127.0.0.1:9/x"}
	tests := []struct {
		name string
		in   []*Webhook
		want string
	}{
		{"duplicate id", []*Webhook{{WebhookID: "W1", FormName: "HPD", EntryEvents: []Kind{KindDelete}, Callback: cb}},
			`webhook "W1": duplicate webhook_id`},
		{"missing id", []*Webhook{{FormName: "HPD", EntryEvents: []Kind{KindDelete}, Callback: cb}},
			`webhook 1: webhook_id must not be empty`},
		{"same form, events and url", []*Webhook{{WebhookID: "W9", FormName: "HPD", EntryEvents: []Kind{KindCreate}, Callback: WebhookCallback{URL: "http://127.0.0.1:9/w1"}}},
			`webhook "W9" duplicates webhook "W1": same form, events and callback URL`},
		{"unknown form", []*Webhook{{WebhookID: "W9", FormName: "HPDX", EntryEvents: []Kind{KindCreate}, Callback: cb}},
			`webhook "W9": form_name "HPDX" is not a declared form; did you mean "HPD"?`},
		{"bad everything", []*Webhook{{WebhookID: "W9", FormName: "HPD", EntryEvents: []Kind{"modify", KindCreate, KindCreate},
			PayloadFields: []string{"Nope"}, Callback: WebhookCallback{URL: "http://u:p@h/", Headers: map[string]string{"A B": "x\n"},
				Authentication: WebhookAuthentication{Type: "digest"}}}},
			`webhook "W9": unknown event kind "modify" (want create, update or delete)
webhook "W9": event "create" is listed twice
webhook "W9": payload field "Nope" is not a field of form "HPD"
webhook "W9": callback: the URL must not contain credentials; use username and password instead
webhook "W9": callback: invalid header name "A B"
webhook "W9": callback: header "A B": value must not contain line breaks or NUL
webhook "W9": callback: unknown authentication type "digest" (want none or basic)`},
		{"no events, no url", []*Webhook{{WebhookID: "W9", FormName: "HPD", Callback: WebhookCallback{Authentication: WebhookAuthentication{Username: "u"}}}},
			`webhook "W9": entry_events must name at least one event
webhook "W9": callback: url must not be empty
webhook "W9": callback: username and password need authentication type basic`},
		{"basic without username", []*Webhook{{WebhookID: "W9", FormName: "HPD", EntryEvents: []Kind{KindDelete}, Callback: WebhookCallback{URL: "http://h/", Authentication: WebhookAuthentication{Type: "basic"}}}},
			`webhook "W9": callback: basic authentication needs a username`},
		{"bad condition", []*Webhook{{WebhookID: "W9", FormName: "HPD", EntryEvents: []Kind{KindDelete}, Condition: "'Status' = \"New\" AND\n 'Stauts' = 1", Callback: cb}},
			"condition:2:2: webhook \"W9\": unknown field 'Stauts'\n 2 |  'Stauts' = 1\n   |  ^"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc, err := c.WithWebhooks(tt.in)
			if nc != nil || err == nil {
				t.Fatalf("WithWebhooks = %v, %v; want an error", nc, err)
			}
			if diff := cmp.Diff(tt.want, listText(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompileWebhookCondition(t *testing.T) {
	c := mustParse(t, matchConfig)
	_, err := c.CompileWebhook(&Webhook{FormName: "HPD", EntryEvents: []Kind{KindCreate}, Condition: "'Stat' = 1",
		Callback: WebhookCallback{URL: "http://127.0.0.1/"}})
	want := "condition:1:1: unknown field 'Stat'\n 1 | 'Stat' = 1\n   | ^"
	if err == nil || err.Error() != want {
		t.Errorf("CompileWebhook error:\n%v\nwant:\n%s", err, want)
	}
	r, err := c.CompileWebhook(&Webhook{WebhookID: "X", FormName: "HPD", EntryEvents: []Kind{KindCreate}, Enabled: new(bool),
		Callback: WebhookCallback{URL: "http://127.0.0.1/"}})
	if err != nil || r.IsActive() {
		t.Errorf("disabled webhook: rule %v active=%v, err %v", r, r != nil && r.IsActive(), err)
	}
}

func TestMatchConfigSettings(t *testing.T) {
	c := mustParse(t, `version: 1
timezone: America/New_York
case_insensitive: true
forms:
  Ticket: {fields: {Created: {type: datetime}, Title: {type: character}}}
callouts: [{name: C, url: "http://127.0.0.1/", format: json}]
rules:
  - {name: zone, form: Ticket, events: [create], condition: "'Created' = \"2021-11-20 10:43:34\"", callouts: [C]}
  - {name: case, form: Ticket, events: [create], condition: "'Title' LIKE \"disk%\"", callouts: [C]}
  - {name: keywords, form: Ticket, events: [update], condition: "$SCHEMA$ = \"Ticket\" AND $OPERATION$ = \"SET\" AND $USER$ = \"jsmith\"", callouts: [C]}
`)
	created := time.Date(2021, 11, 20, 15, 43, 34, 0, time.UTC) // 10:43:34 in New York
	ms, err := c.Match(&Event{Kind: KindCreate, Form: "Ticket", After: Record{"Created": created, "Title": "DISK FULL"}})
	if got := describeMatches(ms); err != nil || !cmp.Equal(got, []string{"zone: fire=C", "case: fire=C"}) {
		t.Errorf("create matches %q, %v", got, err)
	}
	ms, err = c.Match(&Event{Kind: KindUpdate, Form: "Ticket", User: "jsmith", Before: Record{}, After: Record{}})
	if got := describeMatches(ms); err != nil || !cmp.Equal(got, []string{"keywords: fire=C"}) {
		t.Errorf("update matches %q, %v", got, err)
	}
}

// TestDemoMatchesGolden runs every demo event through the demo rules and compares
// what fires with testdata/demo_matches.golden (regenerate with -update).
func TestDemoMatchesGolden(t *testing.T) {
	c, err := Load(demoConfig)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../testdata/demo/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	err = c.ReadEvents(f, "events.jsonl", func(line int, ev *Event, err error) error {
		if err != nil {
			return err
		}
		ms, err := c.Match(ev)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%d %s %s %s\n", line, ev.Kind, ev.Form, ev.EntryID)
		for _, m := range describeMatches(ms) {
			fmt.Fprintf(&b, "\t%s\n", m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "demo_matches.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("demo matches differ from %s (-want +got):\n%s", golden, diff)
	}
}
