package callouts

import (
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/qualification"
	"github.com/ruleflow/ruleflow/rules"
)

// testConfig returns the configuration of design §4 (the Autotask example) plus an
// AR-style form, built in code so that these tests do not depend on the YAML loader.
func testConfig(t testing.TB) *rules.Config {
	t.Helper()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	ticket, err := qualification.NewSchema("Ticket", []qualification.Field{
		{Name: "TicketID", ID: 1, Type: qualification.Integer},
		{Name: "TicketNumber", ID: 2, Type: qualification.Character},
		{Name: "Status", ID: 7, Type: qualification.Selection, Options: []string{"New", "In Progress", "Waiting Customer", "Complete"}},
		{Name: "CreateDate", ID: 3, Type: qualification.DateTime},
		{Name: "LastActivityDate", ID: 6, Type: qualification.DateTime},
		{Name: "RMM Alert ID", ID: 536870913, Type: qualification.Character},
		{Name: "Description", ID: 8, Type: qualification.Character},
		{Name: "Priority", ID: 9, Type: qualification.Integer},
		{Name: "Score", ID: 10, Type: qualification.Real},
		{Name: "Urgent", ID: 11, Type: qualification.Boolean},
		{Name: "DueDate", ID: 12, Type: qualification.Date},
		{Name: "Attachment1", ID: 13, Type: qualification.Attachment},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &rules.Config{
		Version:  1,
		Timezone: "America/New_York",
		Domain:   "DEV3.COM",
		Location: ny,
		Forms: []*rules.Form{{
			Name:   "Ticket",
			Schema: ticket,
			CalloutFields: rules.CalloutFields{
				ID: "TicketID", Number: "TicketNumber", Status: "Status",
				CreatedDatetime: "CreateDate", LastActivityDatetime: "LastActivityDate",
			},
		}},
	}
}

// seedRecord holds the values of the Autotask seed's data format samples.
func seedRecord() rules.Record {
	return rules.Record{
		"TicketID":         int64(8176),
		"TicketNumber":     "T20211120.0001",
		"Status":           "New",
		"CreateDate":       time.Date(2021, 11, 20, 15, 43, 34, 903_000_000, time.UTC),
		"LastActivityDate": time.Date(2022, 3, 25, 15, 23, 58, 610_000_000, time.UTC),
		"RMM Alert ID":     "MY_UDF_VALUE",
		"Description":      "Router down",
		"Priority":         int64(2),
		"Score":            1.5,
		"Urgent":           true,
		"DueDate":          time.Date(2022, 3, 26, 0, 0, 0, 0, time.UTC),
		"Attachment1":      nil,
	}
}

func cloneRecord(r rules.Record) rules.Record {
	out := make(rules.Record, len(r))
	for k, v := range r {
		out[k] = v
	}
	return out
}

func eventTime() time.Time { return time.Date(2022, 3, 25, 15, 23, 58, 0, time.UTC) }

// seedEvent returns an event of the given kind on the seed ticket. An update sets
// Status to Complete and changes the Description.
func seedEvent(kind rules.Kind) *rules.Event {
	ev := &rules.Event{Kind: kind, Form: "Ticket", EntryID: "8176", User: "jsmith", Time: eventTime()}
	switch kind {
	case rules.KindCreate:
		ev.After = seedRecord()
	case rules.KindUpdate:
		ev.Before = seedRecord()
		ev.After = cloneRecord(ev.Before)
		ev.After["Status"] = "Complete"
		ev.After["Description"] = "Router back up"
	case rules.KindDelete:
		ev.Before = seedRecord()
	}
	return ev
}

// specialEvent is a create whose values need escaping, are non-ASCII, empty or NULL.
func specialEvent() *rules.Event {
	rec := seedRecord()
	rec["TicketNumber"] = `T&1 <a href="x">'q'</a> ]]> 100%`
	rec["Status"] = int64(2) // a selection given by index is written by name
	rec["RMM Alert ID"] = "Zürich ✓ 東京 \"quoted\"\r\nline2\ttab"
	rec["Description"] = ""
	rec["CreateDate"] = nil
	delete(rec, "LastActivityDate")
	rec["Score"] = nil
	return &rules.Event{Kind: rules.KindCreate, Form: "Ticket", EntryID: "8176", Time: eventTime(), After: rec}
}

// The callouts under test, one per format and method.
func nameValueCallout(method string) *rules.Callout {
	return &rules.Callout{Name: "RMM name-value", URL: "https://rmm.example.com/callout?token=abc&x=1", Method: method, Format: rules.FormatNameValue, UDF: "RMM Alert ID"}
}

func soapCallout() *rules.Callout {
	return &rules.Callout{Name: "VSA close alert", URL: "https://rmm.example.com/ws/TicketService.asmx", Method: "POST", Format: rules.FormatSOAP,
		MethodName: "CloseTicket", SOAPAction: "http://tempuri.org/CloseTicket", UDF: "RMM Alert ID"}
}

func xmlrpcCallout() *rules.Callout {
	return &rules.Callout{Name: "RMM xmlrpc", URL: "https://rmm.example.com/RPC2", Method: "POST", Format: rules.FormatXMLRPC,
		MethodName: "ticket.close", UDF: "RMM Alert ID", Headers: map[string]string{"x-tenant": "acme"}}
}

func jsonCallout(payload ...string) *rules.Callout {
	return &rules.Callout{Name: "AR webhook", URL: "http://127.0.0.1:9000/webhook", Method: "POST", Format: rules.FormatJSON,
		WebhookID: "WBH000000000101", PayloadFields: payload}
}
