package rules_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/ruleflow/ruleflow/rules"
)

const exampleConfig = `version: 1
timezone: UTC
forms:
  Ticket:
    fields:
      TicketID:     {id: 1, type: integer}
      Status:       {id: 7, type: selection, options: [New, In Progress, Complete]}
      RMM Alert ID: {id: 536870913, type: character}
    callout_fields: {id: TicketID, status: Status}
callouts:
  - name: Close RMM alert
    url: http://127.0.0.1:8081/alerts/close
    format: name-value
    udf: RMM Alert ID
rules:
  - name: Ticket completed
    form: Ticket
    events: [update]
    condition: "'Status' = \"Complete\" AND 'TR.Status' != $NULL$"
    callouts: [Close RMM alert]
`

// ExampleLoad reads a configuration file and matches a save against its rules.
func ExampleLoad() {
	dir, err := os.MkdirTemp("", "ruleflow-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "ruleflow.yaml")
	if err := os.WriteFile(path, []byte(exampleConfig), 0o600); err != nil {
		log.Fatal(err)
	}

	cfg, err := rules.Load(path)
	if err != nil {
		log.Fatal(err) // every problem of the file, each as file:line:col: message
	}
	fmt.Println(cfg.Summary())

	matches, err := cfg.Match(&rules.Event{
		Kind: rules.KindUpdate, Form: "Ticket", EntryID: "8176", User: "jsmith",
		Time:   time.Date(2026, 11, 20, 15, 23, 58, 0, time.UTC),
		Before: rules.Record{"TicketID": int64(8176), "Status": "In Progress", "RMM Alert ID": "A-17"},
		After:  rules.Record{"TicketID": int64(8176), "Status": "Complete", "RMM Alert ID": "A-17"},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range matches {
		for _, c := range m.Fire {
			fmt.Printf("rule %q fires callout %q\n", m.Rule.Name, c.Name)
		}
	}
	// Output:
	// ok: 1 form, 1 rule, 1 callout, 0 webhooks
	// rule "Ticket completed" fires callout "Close RMM alert"
}

// ExampleParse_error shows the errors of a bad configuration: an ErrorList naming
// every problem, each positioned in the file with an excerpt. Load returns the same.
func ExampleParse_error() {
	_, err := rules.Parse("ruleflow.yaml", []byte(`version: 1
forms:
  Ticket:
    fields:
      Status: {id: 7, type: selection, options: [New, Complete]}
rules:
  - name: Ticket completed
    form: Tickets
    events: [update]
`))
	var list rules.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Println(e)
		}
	}
	// Output:
	// ruleflow.yaml:7:9: rule "Ticket completed" has no action: give it callouts, set, reject or notify
	//  7 |   - name: Ticket completed
	//    |         ^
	// ruleflow.yaml:8:11: unknown form "Tickets"; did you mean "Ticket"?
	//  8 |     form: Tickets
	//    |           ^
}
