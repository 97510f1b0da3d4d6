package rules

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResourceErrors(t *testing.T) {
	src := `version: 1
smtp: {host: 127.0.0.1, port: 2525, tls: none, from: ruleflow@example.com}
resources:
  - {name: Jane Doe, email: jane@example.com, roles: [Ops]}
  - {name: Jane Doe, email: jane2@example.com}
  - {name: "role:x", email: x@example.com}
  - {name: Bad, email: not-an-address, roles: [Ops, Ops, ""]}
forms:
  Ticket:
    fields:
      Assignee: {type: character}
callback_functions:
  - {api_name: close, parameters: {who: string}}
target_urls:
  - {name: jira}
callouts:
  - name: C
    url: http://127.0.0.1:9/c
    format: name-value
    notify: {to: [ops@example.com, Jane Doe, Jane Do, "role:Ops", "role:Nobody", "field:Assignee", "field:Owner", "field:who"]}
rules:
  - {name: R1, form: Ticket, events: [update], callouts: [C]}
  - {name: R2, form: close, events: [callback], callouts: [C], notify: {to: ["field:who", "field:Assignee"]}}
  - {name: R3, form: jira, events: [external], notify: {to: ["field:data.user.email", "field:nope"]}}
`
	_, err := parseTest(t, src)
	want := []string{
		`5:12: duplicate resource name "Jane Doe" (first defined on line 4)`,
		`6:12: resource name "role:x" must not start with role: or field:`,
		`7:24: resource "Bad": invalid e-mail address "not-an-address": missing '@' or angle-addr`,
		`7:53: resource "Bad": role "Ops" is listed twice`,
		`7:58: resource "Bad": role must not be empty`,
		`20:46: unknown resource "Jane Do" (want an e-mail address, a resource name, role:<Role> or field:<Field>); did you mean "Jane Doe"?`,
		`20:67: unknown role "Nobody": no resource holds it`,
		`20:82: field:Assignee: "Assignee" is not an argument of callback function "close" (rule "R2")`,
		`20:100: field:Owner: "Owner" is not a field of form "Ticket" (rule "R1")`,
		`20:115: field:who: "who" is not a field of form "Ticket" (rule "R1")`,
		`23:91: field:Assignee: "Assignee" is not an argument of callback function "close" (rule "R2")`,
		`24:87: field:nope: "nope" is not a path of the external event (want data.<path>, headers.<Name>, iparams.<name> or one of account_id, domain, event, region, timestamp, data, headers, iparams)`,
	}
	if diff := cmp.Diff(want, errLines(err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestNotifyNeedsSMTP(t *testing.T) {
	_, err := parseTest(t, `version: 1
callouts:
  - {name: C, url: "http://127.0.0.1:9/c", format: json, notify: {to: [ops@example.com]}}
`)
	want := []string{`3:66: notify needs an smtp block at the top level of the configuration: without one no e-mail is ever sent`}
	if diff := cmp.Diff(want, errLines(err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestRecipients(t *testing.T) {
	cfg := mustParse(t, `version: 1
smtp: {host: 127.0.0.1, port: 2525, tls: none, from: ruleflow@example.com}
resources:
  - {name: Jane Doe, email: jane@example.com, roles: [Dispatcher, Ops]}
  - {name: Sam Roe, email: sam@example.com, roles: [Ops]}
forms:
  Ticket:
    fields:
      Assignee: {type: character}
callouts:
  - name: C
    url: http://127.0.0.1:9/c
    format: json
    notify: {to: [ops@example.com, Sam Roe, "role:Ops", "field:Assignee"]}
rules:
  - {name: R, form: Ticket, events: [update], callouts: [C]}
`)
	n := cfg.Callouts[0].Notify
	tests := []struct {
		assignee any
		want     []string
		wantErr  string
	}{
		{"Jane Doe", []string{"ops@example.com", `"Sam Roe" <sam@example.com>`, `"Jane Doe" <jane@example.com>`}, ""},
		{"kim@example.com", []string{"ops@example.com", `"Sam Roe" <sam@example.com>`, `"Jane Doe" <jane@example.com>`, "kim@example.com"}, ""},
		{"", []string{"ops@example.com", `"Sam Roe" <sam@example.com>`, `"Jane Doe" <jane@example.com>`}, "field:Assignee: the field is empty"},
		{"Nobody", []string{"ops@example.com", `"Sam Roe" <sam@example.com>`, `"Jane Doe" <jane@example.com>`}, `field:Assignee: value "Nobody" is neither an e-mail address nor a resource`},
	}
	for _, tt := range tests {
		ev := &Event{Kind: KindUpdate, Form: "Ticket", EntryID: "1", After: Record{"Assignee": tt.assignee}}
		got, err := cfg.Recipients(n, ev)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%v: recipients (-want +got):\n%s", tt.assignee, diff)
		}
		if gotErr := errText(err); gotErr != tt.wantErr {
			t.Errorf("%v: error %q, want %q", tt.assignee, gotErr, tt.wantErr)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestInboundCalloutFieldsErrors(t *testing.T) {
	_, err := parseTest(t, `version: 1
callback_functions:
  - api_name: close
    parameters: {ticket: int, name: string}
    callout_fields: {id: tiket, number: name, nope: x}
target_urls:
  - name: jira
    callout_fields: {id: data.issue.id, number: issue.key, status: data., created_datetime: timestamp}
`)
	want := []string{
		`5:26: callout_fields id: "tiket" is not an argument of callback function "close"; did you mean "ticket"?`,
		`5:47: unknown key "nope" in callout_fields`,
		`8:49: callout_fields number: "issue.key" is not a path of the external event (want data.<path>, headers.<Name>, iparams.<name> or one of account_id, domain, event, region, timestamp, data, headers, iparams)`,
		`8:68: callout_fields status: "data." is not a path of the external event (want data.<path>, headers.<Name>, iparams.<name> or one of account_id, domain, event, region, timestamp, data, headers, iparams)`,
	}
	if diff := cmp.Diff(want, errLines(err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}
