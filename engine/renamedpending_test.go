package engine

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// renamedFormConfig declares the AR form under name, with former names, and a JSON
// callout on it that notifies ops on every outcome.
func renamedFormConfig(t *testing.T, url, name, renamedFrom string) *rules.Config {
	t.Helper()
	src := testSMTPBlock + `forms:
  "` + name + `":
    ` + renamedFrom + `
    fields:
      Request ID: {id: 1, type: character}
      Status: {id: 7, type: selection, options: {New: 0, Assigned: 1, Closed: 5}}
callouts:
  - name: AR hook
    url: "{{URL}}/ar"
    format: json
    notify: {to: [ops@example.com]}
rules:
  - {name: On create, form: "` + name + `", events: [create], callouts: [AR hook]}
`
	cfg, err := rules.Parse("test.yaml", []byte("version: 1\ntimezone: UTC\n"+strings.ReplaceAll(src, "{{URL}}", url)))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return cfg
}

// TestPendingDeliveryFollowsRenamedForm: a delivery enqueued on "HPD:Help Desk"
// and still pending when the form is renamed to "HPD:Incident" (renamed_from) is
// sent with form_name "HPD:Incident", its notification e-mail and the ticket note
// name the new form, and so does the e-mail job in the outbox. (Before, the old
// name went out everywhere.)
func TestPendingDeliveryFollowsRenamedForm(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	dsn := sqliteDSN(t)
	first := openEngine(t, Options{Config: renamedFormConfig(t, rc.URL, "HPD:Help Desk", ""), Store: dsn, NoDispatch: true})
	id := handleOne(t, first, &rules.Event{Kind: rules.KindCreate, Form: "HPD:Help Desk", EntryID: "INC000000000101", Time: time.Now(),
		After: rules.Record{"Request ID": "INC000000000101", "Status": "New"}})
	first.Close()

	mailer := &mailerFunc{}
	notes := &noteRecorder{}
	renamed := renamedFormConfig(t, rc.URL, "HPD:Incident", `renamed_from: ["HPD:Help Desk"]`)
	second := openEngine(t, Options{Config: renamed, Store: dsn, Mailer: mailer, Notes: notes, PollInterval: 10 * time.Millisecond})
	job, _ := waitSettled(t, second.Store(), id, 10*time.Second)
	if job.Status != store.StatusDelivered {
		t.Fatalf("job %s: %s", job.Status, job.LastError)
	}
	hits := rc.requests()
	if len(hits) != 1 {
		t.Fatalf("receiver saw %d requests", len(hits))
	}
	var body map[string]any
	if err := json.Unmarshal(hits[0].Body, &body); err != nil {
		t.Fatalf("body %s: %v", hits[0].Body, err)
	}
	if body["form_name"] != "HPD:Incident" || body["entry_id"] != "INC000000000101" {
		t.Errorf("sent %s, want form_name HPD:Incident", hits[0].Body)
	}
	waitFor(t, 10*time.Second, "the e-mail and the note", func() bool { return len(mailer.sent()) == 1 && len(notes.list()) == 1 })
	m := mailer.sent()[0]
	if want := `[ruleflow] Callout "AR hook" delivered for HPD:Incident entry INC000000000101`; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	if !strings.Contains(m.Text, "HPD:Incident") || strings.Contains(m.Text, "Help Desk") {
		t.Errorf("e-mail text names the old form:\n%s", m.Text)
	}
	if n := notes.list()[0]; !strings.HasPrefix(n, "HPD:Incident INC000000000101: ") {
		t.Errorf("note %q, want it on HPD:Incident", n)
	}
	if mails := jobsOf(t, second.Store(), store.KindEmail); len(mails) != 1 || mails[0].Form != "HPD:Incident" {
		t.Errorf("%d e-mail jobs, the first on form %q; want one on HPD:Incident", len(mails), mails[0].Form)
	}
}
