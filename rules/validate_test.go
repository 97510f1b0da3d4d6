package rules

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// base is a valid configuration (lines 1-10) that the cases below extend.
const base = `version: 1
forms:
  Ticket:
    fields:
      TicketID: {id: 1, type: integer}
      Status: {id: 7, type: selection, options: [New, Complete]}
      RMM Alert ID: {id: 9, type: character}
      Priority: {id: 8, type: integer}
callouts:
  - {name: C1, url: "http://127.0.0.1:9/x", format: name-value}
`

func TestBaseIsValid(t *testing.T) {
	mustParse(t, base)
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"empty", "", []string{"1:1: empty configuration (want at least \"version: 1\")"}},
		{"comment only", "# nothing\n", []string{"1:1: empty configuration (want at least \"version: 1\")"}},
		{"syntax: unterminated quote", "version: 1\ndomain: \"abc\n", []string{`2:9: could not find end character of double-quoted text`}},
		{"syntax: duplicate key", "version: 1\nversion: 1\n", []string{`2:1: mapping key "version" already defined at [1:1]`}},
		{"syntax: bad indent", "version: 1\nsmtp:\n  host: a\n from: b\n", []string{`4:2: value is not allowed in this context`}},
		{"two documents", "version: 1\n---\nversion: 1\n", []string{"3:8: a configuration file holds one YAML document; found a second one"}},
		{"not a mapping", "- a\n- b\n", []string{"1:1: the configuration must be a mapping, got a list"}},
		{"missing version", "domain: x\n", []string{`1:7: the configuration is missing the required key "version"`}},
		{"empty list entry", "version: 1\nrules:\n  -\n  - {name: R, form: T, events: [create], callouts: [C]}\n", []string{
			"3:4: empty list entry (want a rule)",
			`4:21: unknown form "T"`,
			`4:53: unknown callout "C"`,
		}},
		{"billion laughs", "version: 1\nx-a: &a [x, x, x, x, x, x, x, x, x, x]\nx-b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
			"x-c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nx-d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
			"x-e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nx-f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n" +
			"target_urls: [{name: t, iparams: {k: *f}}]\n", []string{"7:46: too many alias expansions (more than 100000)"}},
		{"bad version", "version: 2\n", []string{"1:10: unsupported version 2 (want 1)"}},
		{"version type", "version: one\n", []string{`1:10: expected an integer, got the string "one"`}},
		{"unknown top key", "version: 1\nrulez: []\n", []string{`2:1: unknown key "rulez" in the configuration; did you mean "rules"?`}},
		{"unknown key far from all", "version: 1\nzzzzzzzz: 1\n", []string{`2:1: unknown key "zzzzzzzz" in the configuration`}},
		{"bad timezone", "version: 1\ntimezone: Mars/Olympus\n", []string{`2:11: unknown timezone "Mars/Olympus" (want an IANA name such as America/New_York or UTC)`}},
		{"bad nulls", "version: 1\nnulls: maybe\n", []string{`2:8: unknown nulls mode "maybe" (want workflow or search)`}},
		{"bool type", "version: 1\ncase_insensitive: yes please\n", []string{`2:19: expected true or false, got the string "yes please"`}},
		{"smtp", "version: 1\nsmtp: {host: \"\", port: 70000, tls: ssl, from: nobody}\n", []string{
			"2:14: smtp host must not be empty",
			"2:24: smtp port 70000 is out of range (want 1 to 65535)",
			`2:36: unknown tls mode "ssl" (want none, starttls or tls)`,
			`2:47: invalid e-mail address "nobody": missing '@' or angle-addr`,
		}},
		{"smtp missing keys", "version: 1\nsmtp: {port: 25}\n", []string{
			`2:7: smtp is missing the required key "host"`,
			`2:7: smtp is missing the required key "from"`,
		}},
		{"smtp password without username", "version: 1\nsmtp: {host: h, from: a@b.c, password: x}\n", []string{"2:40: password is set but username is empty"}},
		{"unset env", "version: 1\ndomain: \"a ${NOPE} b\"\n", []string{"2:12: environment variable NOPE is not set (use ${NOPE:-default} for a default)"}},
		{"bad env name", "version: 1\ndomain: x${1A}\n", []string{`2:10: invalid environment variable name "1A" in "${1A}"`}},
		{"unterminated env", "version: 1\ndomain: x${A\n", []string{`2:10: unterminated "${" (write "$${" for a literal "${")`}},
		{"forms not a mapping", "version: 1\nforms: [a]\n", []string{"2:8: forms must be a mapping of form name to form, got a list"}},
		{"fields", base[:len("version: 1\nforms:\n  Ticket:\n    fields:\n")] + `      A: {id: 0, type: integer}
      B: {id: 3, type: text}
      C: {id: 3, type: selection}
      D: {type: integer, options: [x]}
      E: {type: selection, options: [x, x, ""]}
      F: {typ: character}
      G: [character]
`, []string{
			`5:15: field "A": id must be a positive integer`,
			`6:24: field "B": unknown field type "text" (want character, diary, integer, real, decimal, currency, datetime, date, time, selection, attachment or bool)`,
			`7:15: field "C": id 3 is already used by field "B"`,
			`7:24: selection field "C" needs options`,
			`8:35: field "D": options are only allowed for selection fields`,
			`9:41: field "E": duplicate option "x"`,
			`9:44: field "E": option 2 is empty`,
			`10:10: a field is missing the required key "type"`,
			`10:11: unknown key "typ" in a field; did you mean "type"?`,
			`11:10: a field must be a mapping, got a list`,
		}},
		{"option values", base[:len("version: 1\nforms:\n  Ticket:\n    fields:\n")] + `      A: {type: selection, options: {New: 0, Assigned: 1, Closed: 1}}
      B: {type: selection, options: {New: x, Old: -2, Gone: 1.5}}
      C: {type: integer, options: {New: 0}}
      D: {type: selection, options: {"": 0, E: 1}}
      E: {type: selection, options: {}}
`, []string{
			`5:67: field "A": options "Assigned" and "Closed" have the same value 1`,
			`6:43: field "B": the value of option "New" must be an integer (options map names to AR values, such as {New: 0, Assigned: 1}), got the string "x"`,
			`6:51: field "B": the value of option "Old" must not be negative, got -2`,
			`6:61: field "B": the value of option "Gone" must be an integer (options map names to AR values, such as {New: 0, Assigned: 1}), got the number 1.5`,
			`7:35: field "C": options are only allowed for selection fields`,
			`8:38: field "D": option 0 is empty`,
			`9:17: selection field "E" needs options`,
		}},
		{"unknown callout key", base + "  - {name: C2, url: \"http://h/\", format: json, methd: GET}\n", []string{`11:48: unknown key "methd" in a callout; did you mean "method"?`}},
		{"callout_fields unknown field", strings.Replace(base, "callouts:", "    callout_fields: {id: TicketId, number: Nope}\ncallouts:", 1), []string{
			`9:26: callout_fields id: "TicketId" is not a field of form "Ticket"; did you mean "TicketID"?`,
			`9:44: callout_fields number: "Nope" is not a field of form "Ticket"`,
		}},
		{"callout checks", base + `  - name: C2
    url: http://u:p@127.0.0.1/x
    method: GET
    format: soap
  - name: C3
    url: ftp://127.0.0.1/x
    method: PUT
    format: xmlrpc
    soap_action: http://tempuri.org/X
  - name: C4
    url: "::"
    format: xml
    timeout: 0s
    retry: {interval: 500ms, max: -1, backoff: linear}
  - name: C5
    url: /relative
    format: json
    timeout: 20
    password: x
    notify: {to: [ops@example.com, bad], subject: a, subject_file: b}
    headers: {"Bad Header": "v", X-Ok: "a\nb"}
    retry: {max_interval: 5m}
  - name: C1
    url: http://127.0.0.1/
    format: name-value
    payload_fields: [a]
    retry: {backoff: exponential, interval: 10s, max_interval: 1s}
    notify: {to: []}
`, []string{
			`12:10: the URL must not contain credentials; use username and password instead`,
			`13:13: method GET sends only format name-value; format soap needs POST`,
			`14:13: format soap needs method_name`,
			`14:13: format soap needs soap_action`,
			`16:10: unsupported URL scheme "ftp" (want http or https)`,
			`17:13: unsupported method "PUT" (want GET or POST)`,
			`18:13: format xmlrpc needs method_name`,
			`19:18: soap_action is only used with format soap (this callout is xmlrpc)`,
			`21:10: invalid URL (want an absolute http or https URL such as https://rmm.example.com/api)`,
			`22:13: unknown format "xml" (want name-value, soap, xmlrpc or json)`,
			`23:14: timeout must be positive`,
			`24:23: retry interval 500ms is too short (minimum 1s)`,
			`24:35: retry max -1 is out of range (want 0 to 1000 more attempts)`,
			`24:48: unknown backoff "linear" (want fixed or exponential)`,
			`26:10: unsupported URL scheme "" (want http or https)`,
			`28:14: invalid duration "20" (want a number with a unit, such as 20s or 1m30s)`,
			`29:15: password is set but username is empty`,
			`30:13: notify needs an smtp block at the top level of the configuration: without one no e-mail is ever sent`,
			`30:36: unknown resource "bad" (want an e-mail address, a resource name, role:<Role> or field:<Field>)`,
			`30:68: set subject or subject_file, not both`,
			`31:15: invalid header name "Bad Header"`,
			`31:40: header "X-Ok": value must not contain line breaks or NUL`,
			`32:27: max_interval is only used with backoff exponential`,
			`33:11: duplicate callout name "C1" (first defined on line 10)`,
			`36:21: payload_fields are only used with format json`,
			`37:64: max_interval 1s is shorter than the interval 10s`,
			`38:18: notify needs at least one recipient in to`,
		}},
		{"callout missing keys", base + "  - {name: C2}\n", []string{
			`11:5: a callout is missing the required key "url"`,
			`11:5: a callout is missing the required key "format"`,
		}},
		{"encrypted secret format", base + "  - {name: C2, url: \"http://h/\", format: json, username: u, password: \"enc:v9:abc\"}\n", []string{
			`11:71: unsupported encrypted secret format (want enc:v1:...)`,
		}},
		{"rules", base + `rules:
  - name: R1
    form: Tickets
    events: [update, modify]
    callouts: [C1, C9]
  - name: R1
    form: Ticket
    events: [create, create]
    callouts: [C1, C1]
    nulls: sometimes
  - name: ""
    form: Ticket
    events: []
    callouts: []
  - {name: R4, form: Nowhere, events: [callback], callouts: [C1]}
  - {name: R5, form: Ticket, events: create, callouts: [C1]}
  - {name: R6}
`, []string{
			`13:11: unknown form "Tickets"; did you mean "Ticket"?`,
			`14:22: unknown event kind "modify" (want create, update, delete, callback, external or time)`,
			`15:20: unknown callout "C9"; did you mean "C1"?`,
			`16:11: duplicate rule name "R1" (first defined on line 12)`,
			`18:22: event "create" is listed twice`,
			`19:20: callout "C1" is listed twice`,
			`20:12: unknown nulls mode "sometimes" (want workflow or search)`,
			`21:11: rule name must not be empty`,
			`23:13: events must name at least one event`,
			`24:15: rule "" has no callouts`,
			`25:22: unknown form "Nowhere": not a declared form, callback function api_name or target URL name`,
			`26:38: expected a list, got the string "create"`,
			`27:5: a rule is missing the required key "form"`,
			`27:5: a rule is missing the required key "events"`,
			`27:5: rule "R6" has no action: give it callouts, set, reject or notify`,
		}},
		{"udf", `version: 1
forms:
  Ticket:
    fields: {Priority: {type: integer}, RMM Alert ID: {type: character}}
  HPD:
    fields: {Status: {type: character}}
callouts:
  - {name: U1, url: "http://h/", format: json, udf: Priority}
  - {name: U2, url: "http://h/", format: json, udf: Nope}
  - {name: U3, url: "http://h/", format: json, udf: RMM Alert ID}
rules:
  - {name: R1, form: Ticket, events: [create], callouts: [U1, U2, U3]}
  - {name: R2, form: Ticket, events: [update], callouts: [U1]}
  - {name: R3, form: HPD, events: [create], callouts: [U3]}
`, []string{
			`8:53: udf "Priority" is an integer field of form "Ticket"; a UDF must be a character field (the callout is used by rule "R1")`,
			`9:53: udf "Nope" is not a field of form "Ticket" (the callout is used by rule "R1")`,
			`10:53: udf "RMM Alert ID" is not a field of form "HPD" (the callout is used by rule "R3")`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseTest(t, tt.src)
			if diff := cmp.Diff(tt.want, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
