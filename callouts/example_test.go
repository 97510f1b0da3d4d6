package callouts_test

import (
	"fmt"
	"time"

	"github.com/ruleflow/ruleflow/callouts"
	"github.com/ruleflow/ruleflow/qualification"
	"github.com/ruleflow/ruleflow/rules"
)

func ExampleRender() {
	schema, _ := qualification.NewSchema("Ticket", []qualification.Field{
		{Name: "TicketID", ID: 1, Type: qualification.Integer},
		{Name: "TicketNumber", ID: 2, Type: qualification.Character},
		{Name: "Status", ID: 7, Type: qualification.Selection, Options: []string{"New", "Complete"}},
		{Name: "RMM Alert ID", ID: 536870913, Type: qualification.Character},
	})
	cfg := &rules.Config{Domain: "DEV3.COM", Forms: []*rules.Form{{
		Name: "Ticket", Schema: schema,
		CalloutFields: rules.CalloutFields{ID: "TicketID", Number: "TicketNumber", Status: "Status"},
	}}}
	c := &rules.Callout{Name: "RMM", URL: "https://rmm.example.com/close", Method: "GET", Format: rules.FormatNameValue, UDF: "RMM Alert ID"}
	ev := &rules.Event{Kind: rules.KindUpdate, Form: "Ticket", EntryID: "8176", After: rules.Record{
		"TicketID": int64(8176), "TicketNumber": "T20211120.0001", "Status": "Complete", "RMM Alert ID": "A-17",
	}}
	req, err := callouts.Render(cfg, c, ev)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.Method, req.URL)
	// Output:
	// GET https://rmm.example.com/close?id=8176&number=T20211120.0001&status=Complete&created_datetime=&last_activity_datetime=&domain=DEV3.COM&udf=A-17
}

func ExamplePolicy_Next() {
	p := callouts.PolicyFor(rules.Retry{}) // every 60 s, 10 retries
	failedAt := time.Date(2022, 3, 25, 15, 24, 0, 0, time.UTC)
	next, ok := p.Next(1, failedAt, callouts.Result{StatusCode: 503}, nil)
	fmt.Println(next.Format(time.TimeOnly), ok)
	_, ok = p.Next(11, failedAt, callouts.Result{StatusCode: 503}, nil)
	fmt.Println(ok)
	// Output:
	// 15:25:00 true
	// false
}
