package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/notify/smtptest"
	"github.com/ruleflow/ruleflow/rules"
)

// actionRules route network tickets, refuse completing without a resolution text
// (Title stands in for it), and fire a callout on the final values.
const actionRules = `
callouts:
  - {name: RMM, url: "{{URL}}/hook", format: name-value, udf: RMM Alert ID}
rules:
  - name: Completion needs a title
    form: Ticket
    events: [update]
    condition: "'Status' = \"Complete\" AND 'Title' = $NULL$"
    reject: "A resolution is required to complete a ticket"
  - name: Escalate
    form: Ticket
    events: [update]
    condition: "'Status' = \"Complete\""
    order: 10
    set: {Priority: '"Critical"', RMM Alert ID: '"ALERT-" + ''TicketNumber'''}
  - name: Close alert
    form: Ticket
    events: [update]
    condition: "'Priority' = \"Critical\" AND 'TR.Priority' != $NULL$"
    callouts: [RMM]
`

func TestHandleSetRendersFinalValues(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := openEngine(t, Options{Config: parseConfig(t, "http://127.0.0.1:9", actionRules), Registerer: reg})
	ev := completeEvent(7)
	ev.After["Title"] = "printer"
	delete(ev.After, "RMM Alert ID")
	res, err := e.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rejected != nil {
		t.Fatalf("rejected: %+v", res.Rejected)
	}
	want := []rules.Assignment{
		{Rule: "Escalate", Field: "Priority", Value: "Critical", Pass: 1},
		{Rule: "Escalate", Field: "RMM Alert ID", Value: "ALERT-T20261120.0007", Pass: 1},
	}
	if fmt.Sprint(res.Set) != fmt.Sprint(want) {
		t.Errorf("set = %v, want %v", res.Set, want)
	}
	if got := firedNames(res); strings.Join(got, " ") != "Close alert/RMM" {
		t.Fatalf("fired %q", got)
	}
	// The UDF (set by the rule) lets the callout fire, and the request carries it.
	if body := res.Fired[0].Request.URL + string(res.Fired[0].Request.Body); !strings.Contains(body, "udf=ALERT-T20261120.0007") {
		t.Errorf("request does not carry the set value: %s", body)
	}
	if got := string(SetJSON(res.Set, time.UTC)); got != `{"Priority":"Critical","RMM Alert ID":"ALERT-T20261120.0007"}` {
		t.Errorf("SetJSON = %s", got)
	}
	if n := testutil.ToFloat64(e.metrics.actions.set); n != 2 {
		t.Errorf("rule_values_set_total = %v, want 2", n)
	}
}

// TestRejectEnqueuesNothing: a rejected event, alone or anywhere in a batch,
// leaves the outbox empty, on both stores.
func TestRejectEnqueuesNothing(t *testing.T) {
	for _, st := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", sqliteDSN}, {"postgres", postgresDSN}} {
		t.Run(st.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			e := openEngine(t, Options{Config: parseConfig(t, "http://127.0.0.1:9", actionRules), Store: st.dsn(t), NoDispatch: true, Registerer: reg})
			ctx := context.Background()
			good := completeEvent(1)
			good.After["Title"] = "printer"
			bad := completeEvent(2) // no Title: rejected

			res, err := e.Handle(ctx, bad)
			if err != nil {
				t.Fatal(err)
			}
			if res.Rejected == nil || res.Rejected.Rule != "Completion needs a title" || res.Rejected.Message != "A resolution is required to complete a ticket" {
				t.Fatalf("rejected = %+v", res.Rejected)
			}
			if len(res.Fired) != 0 || len(res.Set) != 0 {
				t.Errorf("a rejected event fired %v and set %v", res.Fired, res.Set)
			}
			results, err := e.HandleBatch(ctx, []*rules.Event{good, bad})
			if err != nil {
				t.Fatal(err)
			}
			if results[0].Rejected != nil || results[1].Rejected == nil || len(results[0].Fired) != 1 || results[0].Fired[0].DeliveryID != "" {
				t.Errorf("batch results: %+v %+v", results[0], results[1])
			}
			if jobs := jobsOf(t, e.Store(), ""); len(jobs) != 0 {
				t.Errorf("%d jobs enqueued, want none", len(jobs))
			}
			if n := testutil.ToFloat64(e.metrics.actions.rejected); n != 2 {
				t.Errorf("saves_rejected_total = %v, want 2", n)
			}
			// Without the rejected event the batch goes through, in one transaction.
			other := completeEvent(3)
			other.After["Title"], other.After["Priority"] = "disk", "Critical"
			other.Before["Priority"] = "Critical"
			results, err = e.HandleBatch(ctx, []*rules.Event{good, other})
			if err != nil {
				t.Fatal(err)
			}
			if results[0].Fired[0].DeliveryID == "" || len(jobsOf(t, e.Store(), store.KindCallout)) != 2 {
				t.Errorf("accepted batch: %+v, jobs %d", results[0].Fired, len(jobsOf(t, e.Store(), store.KindCallout)))
			}
			if results[1].Rejected != nil || len(results[1].Fired) != 1 || results[1].Fired[0].DeliveryID == "" {
				t.Errorf("event 3: %+v", results[1])
			}
		})
	}
}

// TestHandleCascadeLimitReported: a two-rule ping-pong settles after each rule
// fired once, and the change it could not make is reported in the Result, the
// log and the metric.
func TestHandleCascadeLimitReported(t *testing.T) {
	var logs logBuffer
	reg := prometheus.NewRegistry()
	cfg := parseConfig(t, "", `
rules:
  - {name: ping, form: Ticket, events: [update], condition: "'Title' = \"A\"", set: {Title: '"B"'}}
  - {name: pong, form: Ticket, events: [update], condition: "'Title' = \"B\"", set: {Title: '"A"'}}
`)
	e := openEngine(t, Options{Config: cfg, Logger: newTestLogger(&logs), Registerer: reg})
	ev := completeEvent(1)
	ev.After["Title"] = "A"
	res, err := e.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Set) != 2 || len(res.Limited) != 1 || res.Limited[0].Rule != "ping" {
		t.Fatalf("set %v, limited %v", res.Set, res.Limited)
	}
	if !strings.Contains(logs.String(), `msg="engine: rule cascade stopped a change" form=Ticket entry_id=1 event=update rule=ping`) {
		t.Errorf("no log line for the limit:\n%s", logs.String())
	}
	if n := testutil.ToFloat64(e.metrics.actions.limited); n != 1 {
		t.Errorf("rule_cascade_limited_total = %v, want 1", n)
	}
}

// TestRuleNotify: a rule with notify and no callout sends one durable e-mail per
// firing, followed by a note.
func TestRuleNotify(t *testing.T) {
	srv := smtptest.Start(t, smtptest.WithAuth("relay-user", "relay-pass"))
	notes := &noteRecorder{}
	cfg := parseConfig(t, "", fmt.Sprintf(`
smtp: {host: 127.0.0.1, port: %d, tls: none, from: ruleflow@example.com, username: relay-user, password: relay-pass}
rules:
  - name: Tell the lead
    form: Ticket
    events: [update]
    condition: "'Status' = \"Complete\""
    notify: {to: [lead@example.com]}
  - {name: Prioritise, form: Ticket, events: [update], set: {Priority: '"High"'}}
`, srv.Port))
	e := openEngine(t, Options{Config: cfg, Store: sqliteDSN(t), Notes: notes})
	res, err := e.Handle(context.Background(), completeEvent(5))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Matches) != 2 || len(res.Fired) != 0 {
		t.Fatalf("matches %d, fired %d", len(res.Matches), len(res.Fired))
	}
	mails := jobsOf(t, e.Store(), store.KindEmail)
	if len(mails) != 1 || mails[0].Rule != "Tell the lead" {
		t.Fatalf("e-mail jobs: %+v", mails)
	}
	if job, _ := waitSettled(t, e.Store(), mails[0].ID, 10*time.Second); job.Status != store.StatusDelivered {
		t.Fatalf("e-mail job: %s %s", job.Status, job.LastError)
	}
	waitFor(t, 10*time.Second, "the note", func() bool { return len(notes.list()) == 1 })
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "lead@example.com" {
		t.Fatalf("messages: %+v", msgs)
	}
	m := smtptest.Parse(t, msgs[0].Data)
	if got, want := m.Header.Get("Subject"), `ruleflow: rule "Tell the lead" fired for Ticket T20261120.0005 (entry 5)`; got != want {
		t.Errorf("subject %q, want %q", got, want)
	}
	wantText := "Rule \"Tell the lead\" fired.\n\nForm:   Ticket\nRecord: T20261120.0005 (entry 5)\n" +
		"Event:  update by jsmith at 2026-11-20 15:23:58 UTC (+00:00)\n\nValues set by the rules:\n  Priority = \"High\" (rule \"Prioritise\")\n"
	if m.Text != wantText {
		t.Errorf("text:\n%s\nwant:\n%s", m.Text, wantText)
	}
	if n := notes.list()[0]; !strings.HasPrefix(n, `Ticket 5: Rule "Tell the lead" fired.`) {
		t.Errorf("note = %q", n)
	}
}
