package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/engine/store/storetest"
	"github.com/ruleflow/ruleflow/rules"
)

// testKeyHex is the secrets key of the tests (engine.Options.Key); never a real key.
const testKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// testKey returns the tests' secrets key.
func testKey(t testing.TB) *rules.Key {
	t.Helper()
	k, err := rules.ParseKey(testKeyHex)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// ticketForm is the form every test configuration declares.
const ticketForm = `
forms:
  Ticket:
    fields:
      TicketID:         {id: 1, type: integer}
      TicketNumber:     {id: 2, type: character}
      Title:            {id: 3, type: character}
      Status:           {id: 7, type: selection, options: [New, In Progress, Waiting Customer, Complete]}
      Priority:         {id: 8, type: selection, options: [Low, Medium, High, Critical]}
      Divisor:          {id: 9, type: integer}
      CreateDate:       {id: 4, type: datetime}
      LastActivityDate: {id: 6, type: datetime}
      RMM Alert ID:     {id: 536870913, type: character}
    callout_fields: {id: TicketID, number: TicketNumber, status: Status, created_datetime: CreateDate, last_activity_datetime: LastActivityDate}
`

// configYAML is a whole configuration: the header, the Ticket form, then body
// (callouts:, rules:, ...) with every {{URL}} replaced by url.
func configYAML(url, body string) string {
	return "version: 1\ntimezone: UTC\ndomain: TEST.COM\n" + ticketForm + strings.ReplaceAll(body, "{{URL}}", url)
}

// parseConfig parses a configuration built by configYAML.
func parseConfig(t testing.TB, url, body string) *rules.Config {
	t.Helper()
	cfg, err := rules.Parse("test.yaml", []byte(configYAML(url, body)))
	if err != nil {
		t.Fatalf("parse config: %v", err)
	}
	return cfg
}

// oneCallout is the usual test rule set: rule "Close alert" fires callout "RMM" on
// an update that completes the ticket.
// testSMTPBlock is an smtp block for configurations whose notify blocks need one
// but whose e-mails go to a host Mailer or are never sent (nothing listens on port 9).
const testSMTPBlock = "smtp: {host: 127.0.0.1, port: 9, tls: none, from: ruleflow@example.com}\n"

const oneCallout = `
callouts:
  - name: RMM
    url: {{URL}}/hook
    format: name-value
    retry: {interval: 1s, max: 2}
rules:
  - name: Close alert
    form: Ticket
    events: [update]
    condition: "'Status' = \"Complete\" AND 'TR.Status' != $NULL$"
    callouts: [RMM]
`

// completeEvent is an update that completes ticket id.
func completeEvent(id int) *rules.Event {
	return &rules.Event{
		Kind:    rules.KindUpdate,
		Form:    "Ticket",
		EntryID: fmt.Sprint(id),
		User:    "jsmith",
		Time:    time.Date(2026, 11, 20, 15, 23, 58, 0, time.UTC),
		Before:  rules.Record{"TicketID": int64(id), "TicketNumber": fmt.Sprintf("T20261120.%04d", id), "Status": "In Progress"},
		After:   rules.Record{"TicketID": int64(id), "TicketNumber": fmt.Sprintf("T20261120.%04d", id), "Status": "Complete", "RMM Alert ID": "ALERT-" + fmt.Sprint(id)},
	}
}

// sqliteDSN is a fresh SQLite outbox in the test's temporary directory.
func sqliteDSN(t testing.TB) string { return storetest.SQLiteDSN(t) }

// postgresDSN is a fresh PostgreSQL schema of the test's own (see storetest).
func postgresDSN(t testing.TB) string { return storetest.PostgresDSN(t, "rf_engine_test_") }

// logBuffer collects an engine's logs so a test can check that no secret leaks into them.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newTestLogger logs everything, debug included, to w.
func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// quietLogger discards logs.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openEngine opens an engine with the test key and a quiet logger (unless opts say
// otherwise) and closes it when the test ends.
func openEngine(t testing.TB, opts Options) *Engine {
	t.Helper()
	if opts.Key == nil {
		opts.Key = testKey(t)
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	e, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// hit is one request a receiver saw.
type hit struct {
	At       time.Time
	Method   string
	Path     string
	Key      string // Idempotency-Key
	Auth     string // Authorization
	User     string // Basic auth user
	Password string // Basic auth password
	Header   http.Header
	Body     []byte
}

// receiver is a real HTTP server (httptest) standing in for the remote system of a
// callout. respond decides each answer from the 1-based number of the request.
type receiver struct {
	*httptest.Server
	respond func(n int, w http.ResponseWriter, r *http.Request)

	mu   sync.Mutex
	hits []hit
	keys map[string]int // requests per Idempotency-Key
}

// newReceiver starts a receiver; respond nil answers 200 "ok" to everything.
func newReceiver(t testing.TB, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{respond: respond, keys: make(map[string]int)}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	user, pass, _ := r.BasicAuth()
	h := hit{At: time.Now(), Method: r.Method, Path: r.URL.Path, Key: r.Header.Get("Idempotency-Key"),
		Auth: r.Header.Get("Authorization"), User: user, Password: pass, Header: r.Header.Clone(), Body: body}
	rc.mu.Lock()
	rc.hits = append(rc.hits, h)
	rc.keys[h.Key]++
	n := len(rc.hits)
	rc.mu.Unlock()
	if rc.respond == nil {
		io.WriteString(w, "ok")
		return
	}
	rc.respond(n, w, r)
}

// requests returns what the receiver saw so far.
func (rc *receiver) requests() []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hit(nil), rc.hits...)
}

// count returns how many requests arrived.
func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.hits)
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitSettled waits until job id is no longer pending and returns it with its attempts.
func waitSettled(t testing.TB, st *store.Store, id string, timeout time.Duration) (store.Job, []store.Attempt) {
	t.Helper()
	var (
		job      store.Job
		attempts []store.Attempt
	)
	waitFor(t, timeout, "job "+id+" to settle", func() bool {
		var err error
		job, attempts, err = st.Get(context.Background(), id)
		if err != nil {
			t.Fatalf("Get %s: %v", id, err)
		}
		return job.Status != store.StatusPending
	})
	return job, attempts
}

// jobsOf lists every job of a kind (all statuses).
func jobsOf(t testing.TB, st *store.Store, kind store.Kind) []store.Job {
	t.Helper()
	var out []store.Job
	after := ""
	for {
		page, err := st.List(context.Background(), store.Filter{Kind: kind, After: after, Limit: 1000})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		out = append(out, page...)
		if len(page) < 1000 {
			return out
		}
		after = page[len(page)-1].ID
	}
}
