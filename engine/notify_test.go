package engine

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/notify/smtptest"
)

// skewClock is wall-clock time plus an offset a test can advance, so the engine
// sees retry delays pass (the e-mail backoff starts at 10 s) without the test
// sleeping through them.
type skewClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *skewClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *skewClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// noteRecorder is a host's NoteAdder that remembers every note.
type noteRecorder struct {
	mu    sync.Mutex
	notes []string // "form entry: text"
}

func (n *noteRecorder) AddNote(_ context.Context, form, entryID, text string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.notes = append(n.notes, form+" "+entryID+": "+text)
	return nil
}

func (n *noteRecorder) list() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.notes...)
}

// Secrets of the notification tests: neither may appear in an e-mail, a note, an
// attempt record or a log.
const (
	calloutPassword = "Callout-Pa55-xyzzy"
	smtpPassword    = "Smtp-Pa55-plugh"
)

// notifySetup is a callout "RMM" (retry 1 s, max 1) notifying ops and lead, with an
// encrypted callout password and an SMTP server requiring AUTH.
type notifySetup struct {
	rc    *receiver
	smtp  *smtptest.Server
	notes *noteRecorder
	clock *skewClock
	logs  *logBuffer
	e     *Engine
}

func newNotifySetup(t *testing.T, failuresOnly bool, respond func(int, http.ResponseWriter, *http.Request), dataErrs ...error) *notifySetup {
	t.Helper()
	key := testKey(t)
	encCallout, err := key.Encrypt(calloutPassword)
	if err != nil {
		t.Fatal(err)
	}
	encSMTP, err := key.Encrypt(smtpPassword)
	if err != nil {
		t.Fatal(err)
	}
	s := &notifySetup{rc: newReceiver(t, respond), smtp: smtptest.Start(t, smtptest.WithAuth("relay-user", smtpPassword), smtptest.WithDataErrors(dataErrs...)),
		notes: &noteRecorder{}, clock: &skewClock{}, logs: &logBuffer{}}
	cfg := parseConfig(t, s.rc.URL, fmt.Sprintf(`
smtp: {host: 127.0.0.1, port: %d, tls: none, from: ruleflow@example.com, username: relay-user, password: "%s"}
callouts:
  - name: RMM
    url: {{URL}}/hook
    format: name-value
    username: svc
    password: %s
    retry: {interval: 1s, max: 1}
    notify: {to: [ops@example.com, "Team Lead <lead@example.com>"], failures_only: %t}
rules:
  - name: Close alert
    form: Ticket
    events: [update]
    condition: "'Status' = \"Complete\""
    callouts: [RMM]
`, s.smtp.Port, encSMTP, encCallout, failuresOnly))
	s.e = openEngine(t, Options{Config: cfg, Store: sqliteDSN(t), Notes: s.notes, Now: s.clock.Now, Key: key,
		Logger: newTestLogger(s.logs)})
	return s
}

// emailJob waits for the e-mail job reporting on delivery id and returns it once
// pred holds for it.
func (s *notifySetup) emailJob(t *testing.T, id string, what string, pred func(store.Job) bool) store.Job {
	t.Helper()
	var job store.Job
	waitFor(t, 10*time.Second, what, func() bool {
		jobs, err := s.e.Store().List(context.Background(), store.Filter{Kind: store.KindEmail, ParentID: id})
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) > 1 {
			t.Fatalf("%d e-mail jobs for delivery %s, want 1", len(jobs), id)
		}
		if len(jobs) == 1 && pred(jobs[0]) {
			job = jobs[0]
			return true
		}
		return false
	})
	return job
}

// checkNoSecrets fails if a secret shows in the e-mails, notes, attempts or logs.
func (s *notifySetup) checkNoSecrets(t *testing.T) {
	t.Helper()
	var texts []string
	for _, m := range s.smtp.Messages() {
		texts = append(texts, string(m.Data))
	}
	texts = append(texts, s.notes.list()...)
	texts = append(texts, s.logs.String())
	for _, kind := range []store.Kind{store.KindCallout, store.KindEmail, store.KindNote} {
		for _, j := range jobsOf(t, s.e.Store(), kind) {
			_, attempts, err := s.e.Store().Get(context.Background(), j.ID)
			if err != nil {
				t.Fatal(err)
			}
			texts = append(texts, string(j.Payload), j.LastError)
			for _, a := range attempts {
				texts = append(texts, a.Error, string(a.Response))
			}
		}
	}
	for _, text := range texts {
		for _, secret := range []string{calloutPassword, smtpPassword} {
			if strings.Contains(text, secret) {
				t.Errorf("a secret leaks into %q", text)
			}
		}
	}
}

// checkExactly waits until every job in the store is settled, then checks the
// e-mail and note counts. With no job pending (none due, none leased) nothing more
// can be sent, and follow-up jobs are stored in the same transaction as the outcome
// that creates them, so the counts are final: no sleeping to assert absence.
func (s *notifySetup) checkExactly(t *testing.T, emails, notes int) {
	t.Helper()
	waitFor(t, 10*time.Second, "every job to settle", func() bool {
		for _, kind := range []store.Kind{store.KindCallout, store.KindEmail, store.KindNote} {
			for _, j := range jobsOf(t, s.e.Store(), kind) {
				if j.Status == store.StatusPending {
					return false
				}
			}
		}
		return true
	})
	if n := len(s.smtp.Messages()); n != emails {
		t.Errorf("SMTP server received %d e-mails, want %d", n, emails)
	}
	if n := len(s.notes.list()); n != notes {
		t.Errorf("host got %d notes, want %d", n, notes)
	}
}

// TestNotifyFailure: a callout to a receiver that fails permanently ends failed
// after its last retry; exactly one failure e-mail goes to the recipients, naming
// the callout, rule, ticket, outcome, attempts and last status, and exactly one note
// with the same text reaches the host.
func TestNotifyFailure(t *testing.T) {
	t.Parallel()
	s := newNotifySetup(t, true, func(n int, w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance window", http.StatusBadGateway)
	})
	id := handleOne(t, s.e, completeEvent(9))
	job, _ := waitSettled(t, s.e.Store(), id, 10*time.Second)
	if job.Status != store.StatusFailed || job.Attempts != 2 {
		t.Fatalf("delivery %s after %d attempts, want failed after 2", job.Status, job.Attempts)
	}
	s.emailJob(t, id, "the failure e-mail", func(j store.Job) bool { return j.Status == store.StatusDelivered })
	waitFor(t, 10*time.Second, "the note", func() bool { return len(s.notes.list()) == 1 })
	s.checkExactly(t, 1, 1)

	m := s.smtp.Messages()[0]
	if m.From != "ruleflow@example.com" || m.User != "relay-user" {
		t.Errorf("envelope from %q as %q, want ruleflow@example.com as relay-user", m.From, m.User)
	}
	if diff := cmp.Diff([]string{"ops@example.com", "lead@example.com"}, m.To); diff != "" {
		t.Errorf("recipients (-want +got):\n%s", diff)
	}
	p := smtptest.Parse(t, m.Data)
	if got, want := p.Subject, `[ruleflow] Callout "RMM" failed for ticket T20261120.0009`; got != want {
		t.Errorf("Subject = %q, want %q", got, want)
	}
	if got := p.Header.Get("To"); got != `ops@example.com, "Team Lead" <lead@example.com>` {
		t.Errorf("To = %q", got)
	}
	for _, line := range []string{
		`The callout "RMM" failed after 2 attempts.`,
		"Callout:        RMM\n",
		"Rule:           Close alert\n",
		"Form:           Ticket\n",
		"Ticket:         T20261120.0009 (entry 9)\n",
		"Outcome:        failed\n",
		"Attempts:       2\n",
		"Last status:    HTTP 502 Bad Gateway\n",
		"Last error:     HTTP 502: maintenance window\n",
		"URL:            " + s.rc.URL + "/hook\n",
		"Delivery:       " + id + "\n",
		"ruleflow deliveries retry " + id,
	} {
		if !strings.Contains(p.Text, line) {
			t.Errorf("e-mail text lacks %q:\n%s", line, p.Text)
		}
	}
	if p.HTML == "" {
		t.Error("e-mail has no HTML part")
	}
	if got, want := s.notes.list()[0], "Ticket 9: "+p.Text; got != want {
		t.Errorf("note = %q\nwant the e-mail text %q", got, want)
	}
	s.checkNoSecrets(t)
}

// TestNotifySuccess: with failures_only false a delivered callout sends one success
// e-mail and adds one note; with failures_only true it sends none and adds no note.
func TestNotifySuccess(t *testing.T) {
	t.Parallel()
	for _, failuresOnly := range []bool{false, true} {
		t.Run(fmt.Sprintf("failures_only=%t", failuresOnly), func(t *testing.T) {
			t.Parallel()
			s := newNotifySetup(t, failuresOnly, nil)
			id := handleOne(t, s.e, completeEvent(10))
			job, _ := waitSettled(t, s.e.Store(), id, 10*time.Second)
			if job.Status != store.StatusDelivered {
				t.Fatalf("delivery %s, want delivered", job.Status)
			}
			if failuresOnly {
				// Follow-up jobs are stored with the outcome, so none exists now.
				if jobs := jobsOf(t, s.e.Store(), store.KindEmail); len(jobs) != 0 {
					t.Errorf("%d e-mail jobs for a delivered callout with failures_only", len(jobs))
				}
				s.checkExactly(t, 0, 0)
				return
			}
			s.emailJob(t, id, "the success e-mail", func(j store.Job) bool { return j.Status == store.StatusDelivered })
			waitFor(t, 10*time.Second, "the note", func() bool { return len(s.notes.list()) == 1 })
			s.checkExactly(t, 1, 1)
			p := smtptest.Parse(t, s.smtp.Messages()[0].Data)
			if got, want := p.Subject, `[ruleflow] Callout "RMM" delivered for ticket T20261120.0010`; got != want {
				t.Errorf("Subject = %q, want %q", got, want)
			}
			for _, line := range []string{`The callout "RMM" was delivered after 1 attempt.`, "Outcome:        delivered\n", "Last status:    HTTP 200 OK\n"} {
				if !strings.Contains(p.Text, line) {
					t.Errorf("e-mail text lacks %q:\n%s", line, p.Text)
				}
			}
			s.checkNoSecrets(t)
		})
	}
}

// TestNotifySMTPTemporaryFailure: an SMTP server answering 451 to the first message
// makes the e-mail job retry; exactly one e-mail is delivered in the end, and one note.
func TestNotifySMTPTemporaryFailure(t *testing.T) {
	t.Parallel()
	s := newNotifySetup(t, false, nil,
		&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"})
	id := handleOne(t, s.e, completeEvent(11))
	job := s.emailJob(t, id, "the first e-mail attempt", func(j store.Job) bool { return j.Attempts == 1 })
	wantErr := fmt.Sprintf("smtp 127.0.0.1:%d: data: 451 4.3.0 Try again later", s.smtp.Port)
	if job.Status != store.StatusPending || job.LastStatusCode != 451 || job.LastError != wantErr {
		t.Fatalf("e-mail job after a 451: %s, last %d %q; want pending, 451 %q", job.Status, job.LastStatusCode, job.LastError, wantErr)
	}
	if len(s.notes.list()) != 0 {
		t.Fatal("a note was added before the e-mail was sent")
	}
	s.clock.advance(mailRetry.Interval + time.Second) // past the first backoff
	s.e.Wake()
	job = s.emailJob(t, id, "the e-mail retry", func(j store.Job) bool { return j.Status != store.StatusPending })
	if job.Status != store.StatusDelivered || job.Attempts != 2 {
		t.Fatalf("e-mail job %s after %d attempts, want delivered after 2", job.Status, job.Attempts)
	}
	waitFor(t, 10*time.Second, "the note", func() bool { return len(s.notes.list()) == 1 })
	s.checkExactly(t, 1, 1)
	if n := s.smtp.DataCommands(); n != 2 {
		t.Errorf("SMTP server saw %d DATA commands, want 2", n)
	}
	s.checkNoSecrets(t)
}

// TestNotifySMTPPermanentFailure: a 550 reply fails the e-mail job at once with the
// server's reply recorded, and no note is added.
func TestNotifySMTPPermanentFailure(t *testing.T) {
	t.Parallel()
	s := newNotifySetup(t, false, nil,
		&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relaying denied"})
	id := handleOne(t, s.e, completeEvent(12))
	job := s.emailJob(t, id, "the e-mail to fail", func(j store.Job) bool { return j.Status != store.StatusPending })
	wantErr := fmt.Sprintf("smtp 127.0.0.1:%d: data: 550 5.7.1 Relaying denied", s.smtp.Port)
	if job.Status != store.StatusFailed || job.Attempts != 1 || job.LastStatusCode != 550 || job.LastError != wantErr {
		t.Errorf("e-mail job: %s after %d attempts, last %d %q; want failed after 1, 550 %q", job.Status, job.Attempts, job.LastStatusCode, job.LastError, wantErr)
	}
	_, attempts, err := s.e.Store().Get(context.Background(), job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(attempts) != 1 || attempts[0].Error != wantErr || attempts[0].StatusCode != 550 {
		t.Errorf("e-mail attempts = %+v, want one with the 550 reply", summarize(attempts))
	}
	s.checkExactly(t, 0, 0)
	if jobs := jobsOf(t, s.e.Store(), store.KindNote); len(jobs) != 0 {
		t.Errorf("%d note jobs after a failed e-mail, want 0", len(jobs))
	}
	s.checkNoSecrets(t)
}

// TestNotifyCustomMailer: a host-supplied Mailer receives the message; the smtp
// block a notify needs (issue 11 §4) is then not used to send.
func TestNotifyCustomMailer(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	cfg := parseConfig(t, rc.URL, testSMTPBlock+strings.Replace(oneCallout, "retry:", "notify: {to: [ops@example.com]}\n    retry:", 1))
	mailer := &mailerFunc{}
	e := openEngine(t, Options{Config: cfg, Store: sqliteDSN(t), Mailer: mailer})
	handleOne(t, e, completeEvent(13))
	waitFor(t, 10*time.Second, "the e-mail", func() bool { return len(mailer.sent()) == 1 })
	m := mailer.sent()[0]
	if m.Subject != `[ruleflow] Callout "RMM" delivered for ticket T20261120.0013` || len(m.To) != 1 || m.To[0] != "ops@example.com" {
		t.Errorf("message = %q to %q", m.Subject, m.To)
	}
}

// mailerFunc is a Mailer that keeps the messages it is given.
type mailerFunc struct {
	mu   sync.Mutex
	msgs []Message
}

func (m *mailerFunc) Send(_ context.Context, msg Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	return nil
}

func (m *mailerFunc) sent() []Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Message(nil), m.msgs...)
}

// switchedNotes is a NoteAdder whose notes are switched off, as `ruleflow serve`'s
// is while the configuration has no notes endpoint.
type switchedNotes struct{ noteRecorder }

func (*switchedNotes) NotesEnabled() bool { return false }

// TestNotifyNotesSwitchedOff: a NoteAdder that reports NotesEnabled false gets the
// e-mail sent but no note job queued (so none shows as "delivered" in the outbox).
func TestNotifyNotesSwitchedOff(t *testing.T) {
	t.Parallel()
	s := newNotifySetup(t, false, nil)
	cfg := s.e.Config()
	s.e.Close()
	off := &switchedNotes{}
	e := openEngine(t, Options{Config: cfg, Store: sqliteDSN(t), Notes: off, Key: testKey(t)})
	id := handleOne(t, e, completeEvent(11))
	if job, _ := waitSettled(t, e.Store(), id, 10*time.Second); job.Status != store.StatusDelivered {
		t.Fatalf("delivery %s, want delivered", job.Status)
	}
	waitFor(t, 10*time.Second, "the success e-mail", func() bool {
		jobs, err := e.Store().List(context.Background(), store.Filter{Kind: store.KindEmail, ParentID: id, Status: store.StatusDelivered})
		return err == nil && len(jobs) == 1
	})
	if jobs := jobsOf(t, e.Store(), store.KindNote); len(jobs) != 0 {
		t.Errorf("%d note jobs queued while notes are switched off", len(jobs))
	}
	if n := len(off.list()); n != 0 {
		t.Errorf("%d notes added while switched off", n)
	}
	if n := len(s.smtp.Messages()); n != 1 {
		t.Errorf("%d e-mails sent, want 1", n)
	}
}
