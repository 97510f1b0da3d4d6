package rules_test

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/callouts"
	"github.com/ruleflow/ruleflow/qualification"
	"github.com/ruleflow/ruleflow/rules"
)

// renderSeeds are configurations whose callouts exercise what the judge refuses
// (each was accepted by the loader and then failed to render before the single
// judge): an Authorization header, a NUL in a header value, a bad SOAP action.
var renderSeeds = []string{
	`version: 1
forms:
  Ticket:
    fields: {TicketID: {id: 1, type: integer}, Number: {id: 2, type: character}, Status: {id: 7, type: selection, options: [New, Done]}, When: {id: 3, type: datetime}}
    callout_fields: {id: TicketID, number: Number, status: Status, created_datetime: When}
callouts:
  - {name: A, url: "http://127.0.0.1:9/a", format: json, headers: {Authorization: "Bearer x"}}
  - {name: S, url: "http://127.0.0.1:9/s", format: soap, method_name: Close, soap_action: "http://t/\"Close"}
  - {name: N, url: "http://127.0.0.1:9/n", method: GET, format: name-value, headers: {X-A: "a\0b"}}
  - {name: X, url: "http://127.0.0.1:9/x", format: xmlrpc, method_name: "a b"}
rules:
  - {name: R, form: Ticket, events: [create, update, delete], callouts: [A, S, N, X]}
webhooks:
  - {webhook_id: W, form_name: Ticket, entry_events: [create], callback: {url: "http://127.0.0.1:9/w", headers: {Host: h}}}
`,
	`version: 1
forms:
  Ticket:
    fields: {Ref: {id: 1, type: character}, Status: {id: 7, type: selection, options: [New, Done]}}
    callout_fields: {id: Ref, status: Status}
callouts:
  - {name: S, url: "http://127.0.0.1:9/s", format: soap, method_name: Close, soap_action: "http://t/Close"}
  - {name: X, url: "http://127.0.0.1:9/x", format: xmlrpc, method_name: close.ticket, udf: Ref}
  - {name: J, url: "http://127.0.0.1:9/j", format: json, signing_secret: "whsec_c2VjcmV0", headers: {X-Ok: "1"}}
rules:
  - {name: R, form: Ticket, events: [create, update, delete], callouts: [S, X, J]}
webhooks:
  - {webhook_id: W, form_name: Ticket, entry_events: [create, update], callback: {url: "http://127.0.0.1:9/w", authentication: {type: basic, username: u, password: p}}}
`,
}

// dataError is the kind of render error a loaded configuration could once meet (an
// id value that is not an integer). Since ids may be text, none is expected; the
// pattern stays so that a data-dependent error, should an encoder gain one, must
// at least name the event's value.
var dataError = regexp.MustCompile(`(?:value|entry_id) ("(?:[^"\\]|\\.)*") is not an integer`)

// FuzzLoadRenders: every configuration rules.Parse accepts renders, for a fuzzed
// event of each kind of each rule's form, every callout the rule fires — or the
// error is data-dependent and names the event's value. ("What check accepts must
// run.") It lives in rules_test so that it can import callouts.
func FuzzLoadRenders(f *testing.F) {
	if b, err := os.ReadFile("../testdata/demo/ruleflow.yaml"); err == nil {
		f.Add(b, "8176", "T20211120.0001", int64(1))
	}
	for _, s := range renderSeeds {
		f.Add([]byte(s), "8176", "ALERT-1", int64(42))
		f.Add([]byte(s), "x\x00y", "", int64(-1))
	}
	f.Fuzz(func(t *testing.T, data []byte, entryID, text string, n int64) {
		cfg, err := rules.Parse("f.yaml", data)
		if err != nil {
			return
		}
		for _, r := range cfg.AllRules() {
			for _, k := range r.Events {
				ev, values := fuzzEvent(cfg, r.Form, k, entryID, text, n)
				for _, c := range r.Targets {
					_, err := callouts.Render(cfg, c, ev)
					if err == nil {
						continue
					}
					m := dataError.FindStringSubmatch(err.Error())
					if m == nil {
						t.Fatalf("accepted configuration does not render: rule %q, %s event: %v", r.Name, k, err)
					}
					v, uerr := strconv.Unquote(m[1])
					if uerr != nil || !slices.Contains(values, v) {
						t.Fatalf("render error %v names %q, not a value of the event %q", err, v, values)
					}
				}
			}
		}
	})
}

// fuzzEvent builds an event of kind k on form with every field of the form set from
// the fuzzed text and number by its type. values are the texts of the event's
// values (as an error would quote them).
func fuzzEvent(cfg *rules.Config, form string, k rules.Kind, entryID, text string, n int64) (*rules.Event, []string) {
	rec := rules.Record{}
	values := []string{entryID, text, strconv.FormatInt(n, 10)}
	if f, ok := cfg.Form(form); ok {
		for _, fd := range f.Schema.Fields {
			switch fd.Type {
			case qualification.Integer, qualification.Time:
				rec[fd.Name] = n
			case qualification.Real, qualification.Decimal:
				rec[fd.Name] = float64(n) / 8
			case qualification.DateTime, qualification.Date:
				rec[fd.Name] = time.Unix(n%(1<<34), 0).UTC()
			case qualification.Selection:
				rec[fd.Name] = n
				values = append(values, fd.Options...)
			case qualification.Boolean:
				rec[fd.Name] = n%2 == 0
			case qualification.Attachment:
				rec[fd.Name] = &rules.Attachment{Name: text, ContentType: text, Data: []byte(text)}
			default:
				rec[fd.Name] = text
			}
		}
	}
	ev := &rules.Event{Kind: k, Form: form, EntryID: entryID, Time: time.Unix(0, 0).UTC(), Before: rec, After: rec}
	switch k {
	case rules.KindCreate:
		ev.Before = rules.Record{}
	case rules.KindDelete:
		ev.After = rules.Record{}
	}
	return ev, values
}
