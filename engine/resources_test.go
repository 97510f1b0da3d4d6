package engine

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ruleflow/ruleflow/notify/smtptest"
)

// TestNotifyResources (issue 11 §4): notify.to names a role and a field. The role's
// two resources get every e-mail; field:Title is read from each event when it is
// handled — a resource name in one event, a plain address in the other — and
// delivered through the real in-process SMTP server.
func TestNotifyResources(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	mail := smtptest.Start(t)
	cfg := parseConfig(t, rc.URL, fmt.Sprintf(`
smtp: {host: 127.0.0.1, port: %d, tls: none, from: ruleflow@example.com}
resources:
  - {name: Jane Doe, email: jane@example.com, roles: [Ops]}
  - {name: Sam Roe, email: sam@example.com, roles: [Ops, Dispatch]}
  - {name: Kim Poe, email: kim@example.com}
callouts:
  - name: RMM
    url: {{URL}}/hook
    format: name-value
    notify: {to: ["role:Ops", "field:Title"]}
rules:
  - {name: Close alert, form: Ticket, events: [update], callouts: [RMM]}
`, mail.Port))
	e := openEngine(t, Options{Config: cfg, Store: sqliteDSN(t)})
	for id, title := range map[int]string{31: "Kim Poe", 32: "lee@example.com"} {
		ev := completeEvent(id)
		ev.After["Title"] = title
		handleOne(t, e, ev)
	}
	waitFor(t, 15*time.Second, "two e-mails", func() bool { return len(mail.Messages()) == 2 })
	var got []string
	for _, m := range mail.Messages() {
		to := slices.Clone(m.To)
		slices.Sort(to)
		got = append(got, strings.Join(to, ","))
	}
	slices.Sort(got)
	want := []string{
		"jane@example.com,kim@example.com,sam@example.com",
		"jane@example.com,lee@example.com,sam@example.com",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recipients (-want +got):\n%s", diff)
	}
}
