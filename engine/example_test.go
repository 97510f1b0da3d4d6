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

// ExampleEngine_Handle embeds the engine without a store (a dry run): Handle decides
// which callouts an update fires and renders their requests, but stores and sends nothing.
func ExampleEngine_Handle() {
	ctx := context.Background()
	cfg, err := rules.Parse("ruleflow.yaml", []byte(strings.ReplaceAll(config, "URL", "http://127.0.0.1:8081")))
	if err != nil {
		log.Fatal(err)
	}
	e, err := engine.Open(ctx, engine.Options{Config: cfg})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Shutdown(ctx)

	res, err := e.Handle(ctx, saveHookEvent())
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
	// POST http://127.0.0.1:8081/alerts/close
	// id=8176&number=T20261120.0001&status=Complete&created_datetime=&last_activity_datetime=&domain=EXAMPLE.COM&udf=A-17
}

// ExampleOpen embeds the engine with a SQLite outbox: Handle returns once the
// delivery is stored, and the dispatcher sends it (with retries) in the background.
// Its body is the README's "Embedding in Go" snippet (readme_test.go keeps them equal).
func ExampleOpen() {
	ctx := context.Background()
	received := make(chan string, 1)
	rmm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm() // the RMM tool: records the alert it was asked to close
		received <- r.URL.Path + " udf=" + r.PostForm.Get("udf")
	}))
	defer rmm.Close()
	dir, err := os.MkdirTemp("", "ruleflow-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	cfg, err := rules.Parse("ruleflow.yaml", []byte(strings.ReplaceAll(config, "URL", rmm.URL))) // or rules.Load(path)
	if err != nil {
		log.Fatal(err) // file:line:col: message, with an excerpt
	}
	e, err := engine.Open(ctx, engine.Options{
		Config: cfg,
		Store:  "sqlite:" + filepath.Join(dir, "ruleflow.db"), // "" for a dry run; postgres://... for several nodes
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		// Notes: host, // optional: AddNote(ctx, form, entryID, text)
	})
	if err != nil {
		log.Fatal(err)
	}
	defer func() {
		// Like http.Server.Shutdown: stop claiming, let the deliveries in flight finish
		// until ctx is done, then cut them off (each is recorded and retried later) and
		// release this node's leases. Close() is Shutdown with Options.ShutdownTimeout.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		e.Shutdown(ctx)
	}()

	res, err := e.Handle(ctx, &rules.Event{
		Kind: rules.KindUpdate, Form: "Ticket", EntryID: "8176", User: "jsmith", Time: time.Now(),
		Before: rules.Record{"TicketID": int64(8176), "TicketNumber": "T20261120.0001", "Status": "In Progress", "RMM Alert ID": "A-17"},
		After:  rules.Record{"TicketID": int64(8176), "TicketNumber": "T20261120.0001", "Status": "Complete", "RMM Alert ID": "A-17"},
	})
	if err != nil {
		log.Fatal(err) // nothing was stored: reject or retry the save
	}
	for _, f := range res.Fired {
		fmt.Printf("rule %q fired callout %q, stored: %v\n", f.Rule, f.Callout, f.DeliveryID != "")
	}
	// A rule whose condition could not be evaluated for this event (say, a division by
	// zero) did not fire; res.RuleErrors says which and why. The other rules fired.
	fmt.Println("RMM got:", <-received)
	// Output:
	// rule "Ticket completed" fired callout "Close RMM alert", stored: true
	// RMM got: /alerts/close udf=A-17
}
