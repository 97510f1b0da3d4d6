package engine

import (
	"context"
	"errors"
	"fmt"
	"github.com/ruleflow/ruleflow/notify/smtptest"
	"strings"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// TestRenderErrorIsolated: a callout that cannot be rendered (a host changed its
// loaded definition to format "csv"; an id that is not an integer was such a case
// until issue 11 made text ids valid) used to fail the whole Handle, so the other
// callouts of the save were not enqueued either. Now the others are delivered, and
// the broken one is a failed delivery, unsent, whose reason is the render error,
// notified by e-mail per its policy and reported in Result.RenderErrors.
func TestRenderErrorIsolated(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	mail := smtptest.Start(t, smtptest.WithAuth("u", "p"))
	cfg := parseConfig(t, rc.URL, fmt.Sprintf(`
smtp: {host: 127.0.0.1, port: %d, tls: none, from: ruleflow@example.com, username: u, password: p}
callouts:
  - name: RMM
    url: {{URL}}/rmm
    format: name-value
    notify: {to: [ops@example.com], failures_only: true}
  - name: Hook
    url: {{URL}}/hook
    format: json
rules:
  - name: Close alert
    form: Ticket
    events: [update]
    condition: "'Status' = \"Complete\""
    callouts: [RMM, Hook]
`, mail.Port))
	e := openEngine(t, Options{Config: cfg, Store: sqliteDSN(t)})
	cfg.Callouts[0].Format = "csv" // changed in code: Render judges what it is handed
	ev := completeEvent(7)
	res, err := e.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle: %v (a render error must not fail the event)", err)
	}
	const reason = `rule "Close alert": callout "RMM": unknown format "csv" (want name-value, soap, xmlrpc or json)`
	if res.RenderErrors == nil || res.RenderErrors.Error() != reason {
		t.Fatalf("RenderErrors = %v, want %q", res.RenderErrors, reason)
	}
	if len(res.Fired) != 2 || res.Fired[0].RenderError != reason || res.Fired[0].Request != nil || res.Fired[1].Request == nil {
		t.Fatalf("Fired = %+v, want RMM broken and Hook rendered", res.Fired)
	}
	broken, brokenAttempts := waitSettled(t, e.Store(), res.Fired[0].DeliveryID, 10*time.Second)
	if broken.Status != store.StatusFailed || len(brokenAttempts) != 1 || brokenAttempts[0].Error != "not rendered: "+reason {
		t.Fatalf("broken delivery %s with attempts %+v, want failed with the render error", broken.Status, brokenAttempts)
	}
	hook, _ := waitSettled(t, e.Store(), res.Fired[1].DeliveryID, 10*time.Second)
	if hook.Status != store.StatusDelivered {
		t.Fatalf("the other callout is %s, want delivered", hook.Status)
	}
	for _, h := range rc.requests() {
		if h.Path == "/rmm" {
			t.Fatal("the broken callout was sent")
		}
	}
	waitFor(t, 10*time.Second, "the failure e-mail", func() bool { return len(mail.Messages()) == 1 })
	if body := string(mail.Messages()[0].Data); !strings.Contains(body, "unknown format") {
		t.Errorf("the e-mail does not give the reason:\n%s", body)
	}
	failed, err := e.Store().List(context.Background(), store.Filter{Status: store.StatusFailed})
	if err != nil || len(failed) != 1 || failed[0].Callout != "RMM" {
		t.Fatalf("deliveries list --status failed = %+v, %v", failed, err)
	}
}

// TestHandleBatchAtomic: HandleBatch refuses a batch holding text the store cannot
// hold (invalid UTF-8 in an entry ID: PostgreSQL's TEXT refuses it) before anything
// is stored, and stores the deliveries of a good batch together.
func TestHandleBatchAtomic(t *testing.T) {
	for _, tc := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", sqliteDSN}, {"postgres", postgresDSN}} {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, nil)
			e := openEngine(t, Options{Config: parseConfig(t, rc.URL, oneCallout), Store: tc.dsn(t), NoDispatch: true})
			bad := completeEvent(2)
			bad.EntryID = "2\xff"
			_, err := e.HandleBatch(context.Background(), []*rules.Event{completeEvent(1), bad})
			var ee *EventError
			if !errors.As(err, &ee) || ee.Index != 1 || err.Error() != `event 1: entry_id "2\xff" is not valid UTF-8, which the store cannot hold` {
				t.Fatalf("HandleBatch error %v, want an EventError for event 1", err)
			}
			if jobs := jobsOf(t, e.Store(), store.KindCallout); len(jobs) != 0 {
				t.Fatalf("%d deliveries stored by a refused batch", len(jobs))
			}
			res, err := e.HandleBatch(context.Background(), []*rules.Event{completeEvent(1), completeEvent(2)})
			if err != nil || len(res) != 2 || res[1].Fired[0].DeliveryID == "" {
				t.Fatalf("HandleBatch = %+v, %v", res, err)
			}
			if jobs := jobsOf(t, e.Store(), store.KindCallout); len(jobs) != 2 {
				t.Fatalf("%d deliveries stored, want 2", len(jobs))
			}
		})
	}
}
