package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ruleflow/ruleflow/qualification"
)

// arTypesConfig declares a form with AR's enumerations and data types.
const arTypesConfig = `version: 1
forms:
  HPD:Help Desk:
    fields:
      Request ID: {id: 1, type: character}
      Status: {id: 7, type: selection, options: {New: 0, Assigned: 1, In Progress: 2, Pending: 3, Resolved: 4, Closed: 5, Cancelled: 6}}
      Impact: {id: 1000000163, type: selection, options: {1-Extensive/Widespread: 1000, 2-Significant/Large: 2000, 3-Moderate/Limited: 3000, 4-Minor/Localized: 4000}}
      Cost: {id: 40, type: currency}
      Work Log: {id: 41, type: diary}
      Due: {id: 42, type: date}
      Opens At: {id: 43, type: time}
      Rate: {id: 44, type: decimal}
      Ratio: {id: 45, type: real}
      Qual: {id: 46, type: character}
callouts:
  - {name: Names, url: "http://127.0.0.1:9/names", format: json}
  - {name: Values, url: "http://127.0.0.1:9/values", format: json, enum_format: value}
rules:
  - {name: wide, form: "HPD:Help Desk", events: [create], condition: "'Impact' <= \"2-Significant/Large\"", callouts: [Names]}
  - {name: costly, form: "HPD:Help Desk", events: [create], condition: "'Cost.VALUE' > 1000 AND 'Cost.USD' > 1000 AND 'Cost.TYPE' = \"EUR\"", callouts: [Values]}
  - {name: resolved by allen, form: "HPD:Help Desk", events: [create], condition: "'Status-History.Resolved.USER' = \"Allen\" AND 'Status-History.Resolved.TIME' < $TIMESTAMP$", callouts: [Names]}
  - {name: external, form: "HPD:Help Desk", events: [create], condition: "EXTERNAL('Qual')", callouts: [Names]}
  - {name: char vs number, form: "HPD:Help Desk", events: [create], condition: "'1' > 0 AND 'Impact' = 1000", callouts: [Names]}
webhooks:
  - webhook_id: WBH1
    form_name: "HPD:Help Desk"
    entry_events: [create]
    callback: {url: "http://127.0.0.1:9/wh"}
  - webhook_id: WBH2
    form_name: "HPD:Help Desk"
    entry_events: [create]
    enum_format: name
    callback: {url: "http://127.0.0.1:9/wh2"}
`

func TestARTypesConfig(t *testing.T) {
	c := mustParse(t, arTypesConfig)
	f, _ := c.Form("HPD:Help Desk")
	impact, _ := f.Schema.Field("Impact")
	if diff := cmp.Diff([]int64{1000, 2000, 3000, 4000}, impact.Values); diff != "" {
		t.Errorf("Impact values (-want +got):\n%s", diff)
	}
	if impact.Options[1] != "2-Significant/Large" {
		t.Errorf("options keep file order: %q", impact.Options)
	}
	for name, want := range map[string]qualification.FieldType{
		"Cost": qualification.Currency, "Work Log": qualification.Diary, "Due": qualification.Date,
		"Opens At": qualification.Time, "Rate": qualification.Decimal, "Ratio": qualification.Real,
	} {
		if fld, _ := f.Schema.Field(name); fld.Type != want {
			t.Errorf("%s: type %v, want %v", name, fld.Type, want)
		}
	}
	names, _ := c.Callout("Names")
	values, _ := c.Callout("Values")
	if names.EnumFormat != "" || values.EnumFormat != EnumValue {
		t.Errorf("callout enum formats %q, %q", names.EnumFormat, values.EnumFormat)
	}
	wh := c.WebhookRules()
	if wh[0].Targets[0].EnumFormat != EnumValue || wh[1].Targets[0].EnumFormat != EnumName {
		t.Errorf("webhook enum formats %q, %q, want value, name", wh[0].Targets[0].EnumFormat, wh[1].Targets[0].EnumFormat)
	}
}

func TestARTypesDecodeAndMatch(t *testing.T) {
	c := mustParse(t, arTypesConfig)
	ev, err := c.DecodeEvent([]byte(`{"event":"create","form":"HPD:Help Desk","entry_id":"000000000000001","time":"2026-11-22T10:00:00Z",
		"after":{"Request ID":"000000000000001","Status":4,"Impact":2000,
		  "Cost":{"decimal":1250.5,"currency":"EUR","conversionDate":"2026-11-20T09:30:00.000+0000","functionalValues":{"USD":1330.25,"EUR":1250.5}},
		  "Work Log":[{"user":"Demo","timestamp":"2026-11-20T09:30:00.000+0000","text":"called"},{"text":"rebooted"}],
		  "Due":"2026-12-01","Opens At":"08:00:00","Rate":12.75,"Ratio":0.5,
		  "Qual":"'Work Log' LIKE \"%rebooted%\" AND 'Status' = \"Resolved\""},
		"status_history":{"New":{"user":"Demo","timestamp":"2026-11-19T08:00:00.000+0000"},"4":{"user":"Allen","timestamp":"2026-11-21T08:00:00Z"}}}`), nil)
	if err != nil {
		t.Fatalf("DecodeEvent: %v", err)
	}
	utc := time.UTC
	wantAfter := Record{
		"Request ID": "000000000000001", "Status": "Resolved", "Impact": "2-Significant/Large",
		"Cost": &qualification.CurrencyValue{Value: 1250.5, Code: "EUR", ConversionDate: time.Date(2026, 11, 20, 9, 30, 0, 0, utc),
			Functional: []qualification.FunctionalAmount{{Code: "EUR", Value: 1250.5}, {Code: "USD", Value: 1330.25}}},
		"Work Log": qualification.DiaryValue{{User: "Demo", Timestamp: time.Date(2026, 11, 20, 9, 30, 0, 0, utc), Text: "called"}, {Text: "rebooted"}},
		"Due":      time.Date(2026, 12, 1, 0, 0, 0, 0, c.location()), "Opens At": int64(8 * 3600), "Rate": 12.75, "Ratio": 0.5,
		"Qual": `'Work Log' LIKE "%rebooted%" AND 'Status' = "Resolved"`,
	}
	timeEq := cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })
	if diff := cmp.Diff(wantAfter, ev.After, timeEq); diff != "" {
		t.Errorf("after (-want +got):\n%s", diff)
	}
	wantHist := map[string]qualification.StatusEntry{
		"New":      {User: "Demo", Time: time.Date(2026, 11, 19, 8, 0, 0, 0, utc)},
		"Resolved": {User: "Allen", Time: time.Date(2026, 11, 21, 8, 0, 0, 0, utc)},
	}
	if diff := cmp.Diff(wantHist, ev.StatusHistory, timeEq); diff != "" {
		t.Errorf("status history (-want +got):\n%s", diff)
	}
	ms, err := c.Match(ev)
	if err != nil {
		t.Fatalf("Match: %v", err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Rule.Name)
	}
	want := []string{"wide", "costly", "resolved by allen", "external", "webhook WBH1", "webhook WBH2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("matched rules (-want +got):\n%s", diff)
	}
}

func TestARTypesDecodeErrors(t *testing.T) {
	c := mustParse(t, arTypesConfig)
	tests := []struct{ after, want string }{
		{`{"Impact":1}`, `after: field "Impact": option value 1 is not one of 1-Extensive/Widespread (1000), 2-Significant/Large (2000), 3-Moderate/Limited (3000), 4-Minor/Localized (4000)`},
		{`{"Impact":"5-None"}`, `after: field "Impact": unknown option "5-None" (want a name or value of 1-Extensive/Widespread (1000), 2-Significant/Large (2000), 3-Moderate/Limited (3000), 4-Minor/Localized (4000))`},
		{`{"Cost":12}`, `after: field "Cost": want a currency object {"decimal", "currency", "conversionDate", "functionalValues"}, got number 12`},
		{`{"Cost":{"decimal":1}}`, `after: field "Cost": a currency value needs "decimal" and "currency"`},
		{`{"Cost":{"decimal":"x","currency":"EUR"}}`, `after: field "Cost": currency decimal: want a number, got string "x"`},
		{`{"Cost":{"decimal":1,"currency":"eur"}}`, `after: field "Cost": currency code must be three upper-case letters such as "USD", got string "eur"`},
		{`{"Cost":{"decimal":1,"currency":"EUR","rate":2}}`, `after: field "Cost": unknown currency key "rate" (want decimal, currency, conversionDate, functionalValues)`},
		{`{"Cost":{"decimal":1,"currency":"EUR","conversionDate":"yesterday"}}`, `after: field "Cost": currency conversionDate: invalid date-time "yesterday" (want ISO 8601 such as 2014-12-01T12:48:03.000+0000)`},
		{`{"Cost":{"decimal":1,"currency":"EUR","functionalValues":{"usd":1}}}`, `after: field "Cost": functional currency code "usd" must be three upper-case letters`},
		{`{"Cost":{"decimal":1,"currency":"EUR","functionalValues":[{"decimal":1,"currency":"USD"},{"decimal":2,"currency":"USD"}]}}`, `after: field "Cost": functional currency USD is given twice`},
		{`{"Work Log":5}`, `after: field "Work Log": want a list of diary entries {"user", "timestamp", "text"} or a string, got number 5`},
		{`{"Work Log":[{"txt":"x"}]}`, `after: field "Work Log": diary entry 0: unknown key "txt" (want user, timestamp, text)`},
		{`{"Work Log":[{"text":"x","timestamp":"soon"}]}`, `after: field "Work Log": diary entry 0: timestamp: invalid date-time "soon" (want ISO 8601 such as 2014-12-01T12:48:03.000+0000)`},
	}
	for _, tt := range tests {
		_, err := c.DecodeEvent([]byte(`{"event":"create","form":"HPD:Help Desk","after":`+tt.after+`}`), nil)
		if err == nil || err.Error() != tt.want {
			t.Errorf("after %s:\n got %v\nwant %s", tt.after, err, tt.want)
		}
	}
	for _, tt := range []struct{ hist, want string }{
		{`{"Done":{"user":"x"}}`, `status_history: "Done": unknown option "Done" (want a name or value of New (0), Assigned (1), In Progress (2), Pending (3), Resolved (4), Closed (5), Cancelled (6))`},
		{`{"Resolved":"x"}`, `status_history: "Resolved": want {"user", "timestamp"}, got string "x"`},
		{`{"Resolved":{"who":"x"}}`, `status_history: "Resolved": unknown key "who" (want user, timestamp)`},
		{`{"Resolved":{"user":"x"},"4":{"user":"y"}}`, `status_history: "Resolved": status "Resolved" is given twice`},
	} {
		_, err := c.DecodeEvent([]byte(`{"event":"create","form":"HPD:Help Desk","status_history":`+tt.hist+`}`), nil)
		if err == nil || err.Error() != tt.want {
			t.Errorf("status_history %s:\n got %v\nwant %s", tt.hist, err, tt.want)
		}
	}
}

func TestEnumFormatErrors(t *testing.T) {
	base := arTypesConfig[:strings.Index(arTypesConfig, "callouts:")]
	_, err := parseTest(t, base+`callouts:
  - {name: A, url: "http://127.0.0.1:9/a", format: json, enum_format: number}
  - {name: B, url: "http://127.0.0.1:9/b", format: name-value, enum_format: value}
webhooks:
  - {webhook_id: W, form_name: "HPD:Help Desk", entry_events: [create], enum_format: names, callback: {url: "http://127.0.0.1:9/w"}}
`)
	want := []string{
		`16:71: unknown enum_format "number" (want name or value)`,
		`17:77: enum_format is only used with format json (this callout is name-value)`,
		`19:86: unknown enum_format "names" (want name or value)`,
	}
	if diff := cmp.Diff(want, errLines(err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	c := mustParse(t, arTypesConfig)
	_, err = c.CompileWebhook(&Webhook{WebhookID: "X", FormName: "HPD:Help Desk", EntryEvents: []Kind{KindCreate},
		EnumFormat: "both", Callback: WebhookCallback{URL: "http://127.0.0.1:9/x"}})
	if err == nil || err.Error() != `unknown enum_format "both" (want name or value)` {
		t.Errorf("CompileWebhook: %v", err)
	}
}

// FuzzDecodeEventARTypes feeds arbitrary bytes to the event decoder of a form with
// AR's data types: it must never panic, and a decoded event must match.
func FuzzDecodeEventARTypes(f *testing.F) {
	c := mustParse(f, arTypesConfig)
	f.Add([]byte(`{"event":"create","form":"HPD:Help Desk","after":{"Status":4,"Impact":"1-Extensive/Widespread","Cost":{"decimal":"12.5","currency":"EUR","conversionDate":1700000000,"functionalValues":[{"decimal":13,"currency":"USD"}]}}}`))
	f.Add([]byte(`{"event":"create","form":"HPD:Help Desk","after":{"Work Log":[{"user":"a","timestamp":"2026-11-20T09:30:00.000+0000","text":"x"}],"Due":"2026-12-01","Opens At":3600,"Qual":"EXTERNAL('Qual')"},"status_history":{"0":{"user":"a","timestamp":1}}}`))
	f.Add([]byte(`{"event":"update","form":"HPD:Help Desk","before":{"Work Log":"old"},"after":{"Work Log":"new","Qual":"'Cost.USD' > 1"},"status_history":{"Resolved":{"user":null,"timestamp":null}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := c.DecodeEvent(data, nil)
		if err != nil {
			if ev != nil {
				t.Fatal("event and error both returned")
			}
			return
		}
		_, _ = c.Match(ev)
	})
}

// TestExternalRuleError checks that a field holding an invalid qualification makes
// the EXTERNAL rule a rule error naming the rule and the field, while the other rules
// still match.
func TestExternalRuleError(t *testing.T) {
	c := mustParse(t, arTypesConfig)
	ev, err := c.DecodeEvent([]byte(`{"event":"create","form":"HPD:Help Desk","after":{"Impact":1000,"Qual":"'Stauts' = 1"}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := c.Match(ev)
	want := "rule \"external\": qualification:1:1: EXTERNAL('Qual'): the field's value is not a valid qualification: at column 1 of \"'Stauts' = 1\": unknown field 'Stauts'\nEXTERNAL('Qual')\n^"
	if err == nil || err.Error() != want {
		t.Errorf("Match error:\n got %v\nwant %s", err, want)
	}
	if len(ms) == 0 || ms[0].Rule.Name != "wide" {
		t.Errorf("other rules should still match, got %d matches", len(ms))
	}
}
