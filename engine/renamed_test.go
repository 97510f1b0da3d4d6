package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ruleflow/ruleflow/engine/store"
)

// notifiedCallout is oneCallout with a notification on every outcome.
var notifiedCallout = testSMTPBlock + strings.Replace(oneCallout, "retry:", "notify: {to: [ops@example.com]}\n    retry:", 1)

// TestRenamedCalloutCarriesOver: a delivery enqueued for callout "RMM" is delivered
// and notified by "RMM v2" after a restart on a configuration that renamed it with
// renamed_from. (Before, it failed with "no longer configured".)
func TestRenamedCalloutCarriesOver(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	dsn := sqliteDSN(t)
	first := openEngine(t, Options{Config: parseConfig(t, rc.URL, notifiedCallout), Store: dsn, NoDispatch: true})
	id := handleOne(t, first, completeEvent(21))
	first.Close()

	renamed := parseConfig(t, rc.URL, testSMTPBlock+`
callouts:
  - name: RMM v2
    renamed_from: [RMM]
    url: "{{URL}}/hook"
    format: name-value
    notify: {to: [ops@example.com]}
rules:
  - {name: Close alert, form: Ticket, events: [update], callouts: [RMM v2]}
`)
	mailer := &mailerFunc{}
	second := openEngine(t, Options{Config: renamed, Store: dsn, Mailer: mailer})
	job, attempts := waitSettled(t, second.Store(), id, 5*time.Second)
	if job.Status != store.StatusDelivered || len(attempts) != 1 || rc.count() != 1 {
		t.Errorf("job %s after %d attempts, %d requests; want delivered after 1", job.Status, len(attempts), rc.count())
	}
	waitFor(t, 5*time.Second, "the e-mail", func() bool { return len(mailer.sent()) == 1 })
	if got, want := mailer.sent()[0].Subject, `[ruleflow] Callout "RMM v2" delivered for ticket T20261120.0021`; got != want {
		t.Errorf("subject = %q, want %q", got, want)
	}
}

// TestRemovedCalloutStillNotifies: a delivery whose callout was removed fails at its
// next attempt, and the failure is e-mailed per the policy stored with the delivery.
// (Before, it failed silently: no e-mail.)
func TestRemovedCalloutStillNotifies(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	dsn := sqliteDSN(t)
	first := openEngine(t, Options{Config: parseConfig(t, rc.URL, notifiedCallout), Store: dsn, NoDispatch: true})
	id := handleOne(t, first, completeEvent(22))
	first.Close()

	other := parseConfig(t, rc.URL, `
callouts:
  - {name: Other, url: "{{URL}}/other", format: name-value}
rules:
  - {name: other, form: Ticket, events: [create], callouts: [Other]}
`)
	mailer := &mailerFunc{}
	second := openEngine(t, Options{Config: other, Store: dsn, Mailer: mailer})
	job, attempts := waitSettled(t, second.Store(), id, 5*time.Second)
	want := []attemptSummary{{N: 1, Error: `callout "RMM" is no longer configured`}}
	if diff := cmp.Diff(want, summarize(attempts)); diff != "" || job.Status != store.StatusFailed {
		t.Errorf("job %s, attempts (-want +got):\n%s", job.Status, diff)
	}
	waitFor(t, 5*time.Second, "the failure e-mail", func() bool { return len(mailer.sent()) == 1 })
	m := mailer.sent()[0]
	if len(m.To) != 1 || m.To[0] != "ops@example.com" || !strings.Contains(m.Subject, `"RMM" failed`) ||
		!strings.Contains(m.Text, "no longer configured") {
		t.Errorf("message %q to %q:\n%s", m.Subject, m.To, m.Text)
	}
	if rc.count() != 0 {
		t.Errorf("receiver saw %d requests, want none", rc.count())
	}
}
