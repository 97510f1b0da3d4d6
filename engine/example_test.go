package engine_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/rules"
)

// config is the configuration the examples embed: one form, one callout, one rule.
const config = `
version: 1
timezone: UTC
domain: EXAMPLE.COM
forms:
  Ticket:
    fields:
      TicketID:     {id: 1, type: integer}
      TicketNumber: {id: 2, type: character}
      Status:       {id: 7, type: selection, options: [New, In Progress, Complete]}
      RMM Alert ID: {id: 536870913, type: character}
    callout_fields: {id: TicketID, number: TicketNumber, status: Status}
callouts:
  - name: Close RMM alert
    url: URL/alerts/close
    format: name-value
    udf: RMM Alert ID
    retry: {interval: 1s, max: 3}
rules:
  - name: Ticket completed
    form: Ticket
    events: [update]
    condition: "'Status' = \"Complete\" AND 'TR.Status' != $NULL$"
    callouts: [Close RMM alert]
`

// saveHookEvent is what a ticketing system's save hook passes on: ticket 8176 was
// just set to Complete.
func saveHookEvent() *rules.Event {
	return &rules.Event{
		Kind:    rules.KindUpdate,
		Form:    "Ticket",
		EntryID: "8176",
		User:    "jsmith",
		Time:    time.Date(2026, 11, 20, 15, 23, 58, 0, time.UTC),
		Before:  rules.Record{"TicketID": int64(8176), "TicketNumber": "T20261120.0001", "Status": "In Progress", "RMM Alert ID": "A-17"},
		After:   rules.Record{"TicketID": int64(8176), "TicketNumber": "T20261120.0001", "Status": "Complete", "RMM Alert ID": "A-17"},
	}
}

// Example embeds the engine without a store (a dry run): Handle decides which
// callouts an update fires and renders their requests, but stores and sends nothing.
func Example() {
	cfg, err := rules.Parse("ruleflow.yaml", []byte(strings.ReplaceAll(config, "URL", "https://rmm.example.com")))
	if err != nil {
		log.Fatal(err)
	}
	e, err := engine.Open(context.Background(), engine.Options{Config: cfg})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()

	res, err := e.Handle(context.Background(), saveHookEvent())
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range res.Fired {
		fmt.Printf("rule %q fired callout %q\n", f.Rule, f.Callout)
		fmt.Println(f.Request.Method, f.Request.URL)
		fmt.Println(string(f.Request.Body))
	}
	// Output:
	// rule "Ticket completed" fired callout "Close RMM alert"
	// POST https://rmm.example.com/alerts/close
	// id=8176&number=T20261120.0001&status=Complete&created_datetime=&last_activity_datetime=&domain=EXAMPLE.COM&udf=A-17
}

// Example_durable embeds the engine with a SQLite outbox: Handle returns once the
// delivery is stored, and the dispatcher sends it (with retries) in the background.
func Example_durable() {
	received := make(chan string, 1)
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		received <- r.URL.Path + " udf=" + r.PostForm.Get("udf")
	}))
	defer remote.Close()

	dir, err := os.MkdirTemp("", "ruleflow-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cfg, err := rules.Parse("ruleflow.yaml", []byte(strings.ReplaceAll(config, "URL", remote.URL)))
	if err != nil {
		log.Fatal(err)
	}
	e, err := engine.Open(context.Background(), engine.Options{
		Config: cfg,
		Store:  "sqlite:" + filepath.Join(dir, "ruleflow.db"), // the key file is created beside it
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close() // waits for deliveries in flight

	res, err := e.Handle(context.Background(), saveHookEvent())
	if err != nil {
		log.Fatal(err) // the save hook would reject the save: nothing was stored
	}
	fmt.Println("fired:", len(res.Fired), "stored:", res.Fired[0].DeliveryID != "")
	fmt.Println("remote got:", <-received)
	// Output:
	// fired: 1 stored: true
	// remote got: /alerts/close udf=A-17
}
