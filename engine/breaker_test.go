package engine

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/notify/smtptest"
	"github.com/ruleflow/ruleflow/rules"
)

// breakerConfig is callout RMM (breaker after 3 failures, cool-down 10s, retry
// every 1s up to 30 times) notifying ops on failures only, for rule Close alert.
func breakerConfig(t *testing.T, url string, smtpPort int, extra string) *rules.Config {
	t.Helper()
	return parseConfig(t, url, fmt.Sprintf(`
smtp: {host: 127.0.0.1, port: %d, tls: none, from: ruleflow@example.com}
callouts:
  - name: RMM
    url: {{URL}}/hook
    format: name-value
    retry: {interval: 1s, max: 30}
    breaker: {failures: 3, cooldown: 10s}
    notify: {to: [ops@example.com], failures_only: true}
%s
rules:
  - name: Close alert
    form: Ticket
    events: [update]
    condition: "'Status' = \"Complete\""
    callouts: [RMM]
`, smtpPort, extra))
}

// failingReceiver answers 503 while fail is set, else 200.
func failingReceiver(t *testing.T, fail *atomic.Bool) *receiver {
	return newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		if fail.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "ok")
	})
}

func handleN(t *testing.T, e *Engine, from, n int) []string {
	t.Helper()
	var ids []string
	for i := from; i < from+n; i++ {
		res, err := e.Handle(context.Background(), completeEvent(i))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range res.Fired {
			ids = append(ids, d.DeliveryID)
		}
	}
	return ids
}

func breakerRow(t *testing.T, st *store.Store, endpoint string) store.Breaker {
	t.Helper()
	bs, err := st.Breakers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.Endpoint == endpoint {
			return b
		}
	}
	return store.Breaker{State: store.BreakerClosed}
}

func totalAttempts(t *testing.T, st *store.Store, ids []string) int {
	t.Helper()
	n := 0
	for _, id := range ids {
		j, _, err := st.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		n += j.Attempts
	}
	return n
}

// allPostponedUntil reports whether every delivery of ids is pending, unleased,
// due at until, after attempts attempts in all.
func allPostponedUntil(t *testing.T, st *store.Store, ids []string, until time.Time) bool {
	t.Helper()
	for _, id := range ids {
		j, _, err := st.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != store.StatusPending || j.LeaseOwner != "" || !j.NextAt.Equal(until) {
			return false
		}
	}
	return true
}

func subjects(srv *smtptest.Server) []string {
	var out []string
	for _, m := range srv.Messages() {
		for _, line := range strings.Split(string(m.Data), "\r\n") {
			if s, ok := strings.CutPrefix(line, "Subject: "); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func TestBreakerSQLite(t *testing.T)   { testBreaker(t, sqliteDSN(t)) }
func TestBreakerPostgres(t *testing.T) { testBreaker(t, postgresDSN(t)) }

// testBreaker: three failures open the breaker (one e-mail); deliveries wait without
// using up retries; after the cool-down exactly one probe goes; it fails and the
// cool-down doubles (no e-mail); the next probe succeeds, the breaker closes (one
// e-mail) and every waiting delivery is sent.
func testBreaker(t *testing.T, dsn string) {
	var fail atomic.Bool
	fail.Store(true)
	rc := failingReceiver(t, &fail)
	srv := smtptest.Start(t)
	clock := &skewClock{}
	reg := prometheus.NewRegistry()
	e := openEngine(t, Options{Config: breakerConfig(t, rc.URL, srv.Port, ""), Store: dsn, Now: clock.Now, PollInterval: 50 * time.Millisecond, Registerer: reg})
	st := e.Store()
	ep := rules.Endpoint(rc.URL)
	gauges := func(open, failures int) string {
		return fmt.Sprintf(`# HELP ruleflow_breaker_failures Consecutive failed attempts recorded for a callout's endpoint.
# TYPE ruleflow_breaker_failures gauge
ruleflow_breaker_failures{callout="RMM",endpoint="%s"} %d
# HELP ruleflow_breaker_open 1 while the circuit breaker of a callout's endpoint is open or half open, else 0.
# TYPE ruleflow_breaker_open gauge
ruleflow_breaker_open{callout="RMM",endpoint="%s"} %d
`, ep, failures, ep, open)
	}

	ids := handleN(t, e, 1, 3)
	var b store.Breaker
	waitFor(t, 10*time.Second, "the breaker to open", func() bool {
		b = breakerRow(t, st, ep)
		return b.State == store.BreakerOpen
	})
	if b.Failures != 3 || b.Cooldown != 10*time.Second || b.Callout != "RMM" {
		t.Fatalf("opened: %+v", b)
	}
	// The retries (due after 1 s) are claimed and given back until the cool-down
	// ends, unattempted.
	clock.advance(1500 * time.Millisecond)
	e.Wake()
	waitFor(t, 10*time.Second, "the deliveries to wait for the breaker", func() bool { return allPostponedUntil(t, st, ids, b.OpenUntil) })
	if n := totalAttempts(t, st, ids); n != 3 || rc.count() != 3 {
		t.Fatalf("while open: %d attempts, %d requests; want 3", n, rc.count())
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(gauges(1, 3)), "ruleflow_breaker_open", "ruleflow_breaker_failures"); err != nil {
		t.Error(err)
	}
	if n := testutil.ToFloat64(e.limits.postponed.WithLabelValues("RMM", "breaker")); n < 3 {
		t.Errorf("postponed{breaker} = %v, want at least 3", n)
	}
	waitFor(t, 10*time.Second, "the open e-mail", func() bool { return len(srv.Messages()) == 1 })
	if s := subjects(srv); len(s) != 1 || !strings.Contains(s[0], "callout RMM paused: "+ep+" is failing") {
		t.Fatalf("subjects = %q", s)
	}
	wantText := "The circuit breaker of " + ep + " opened after 3 consecutive failed attempts.\n\n" +
		"Callout:      RMM\nLast status:  503\nLast error:   HTTP 503: down for maintenance\n" +
		"Opened at:    " + b.OpenedAt.Format(time.RFC3339) + "\nProbe after:  " + b.OpenUntil.Format(time.RFC3339) +
		" (cool-down 10s, doubled after each failed probe, up to 1h)\n\n" +
		"Deliveries to this endpoint wait without using up their retries. One probe attempt is made\n" +
		"when the cool-down ends; when it succeeds the breaker closes and you get one more e-mail.\n"
	if m := srv.Messages()[0]; fmt.Sprint(m.To) != "[ops@example.com]" || smtptest.Parse(t, m.Data).Text != wantText {
		t.Fatalf("open e-mail to %v:\n%s\nwant:\n%s", m.To, smtptest.Parse(t, m.Data).Text, wantText)
	}

	// The cool-down ends: one probe, which fails; the cool-down doubles.
	clock.advance(10 * time.Second)
	e.Wake()
	waitFor(t, 10*time.Second, "the failed probe to re-open the breaker", func() bool {
		b = breakerRow(t, st, ep)
		return b.State == store.BreakerOpen && b.Cooldown == 20*time.Second
	})
	waitFor(t, 10*time.Second, "the deliveries to wait again", func() bool { return allPostponedUntil(t, st, ids, b.OpenUntil) })
	if n := totalAttempts(t, st, ids); n != 4 || rc.count() != 4 {
		t.Fatalf("after the probe: %d attempts, %d requests; want 4", n, rc.count())
	}

	// The receiver recovers; the next probe closes the breaker and all are sent.
	fail.Store(false)
	clock.advance(20 * time.Second)
	e.Wake()
	for _, id := range ids {
		if j, _ := waitSettled(t, st, id, 10*time.Second); j.Status != store.StatusDelivered {
			t.Fatalf("%s: %s", id, j.Status)
		}
	}
	if b = breakerRow(t, st, ep); b.State != store.BreakerClosed || b.Failures != 0 {
		t.Fatalf("closed: %+v", b)
	}
	if n := totalAttempts(t, st, ids); n != 7 {
		t.Fatalf("%d attempts in all, want 7 (3 failed, 1 failed probe, 1 probe, 2 after)", n)
	}
	waitFor(t, 10*time.Second, "the close e-mail", func() bool { return len(srv.Messages()) == 2 })
	if s := subjects(srv); !strings.Contains(s[1], "callout RMM resumed: "+ep+" answers again") {
		t.Fatalf("subjects = %q", s)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(gauges(0, 0)), "ruleflow_breaker_open", "ruleflow_breaker_failures"); err != nil {
		t.Error(err)
	}
	for state, want := range map[string]float64{"open": 2, "half_open": 0, "closed": 1} { // the probes' half-open step is AcquireProbe's, not Settle's
		if n := testutil.ToFloat64(e.limits.transitions.WithLabelValues(ep, state)); n != want {
			t.Errorf("transitions{%s} = %v, want %v", state, n, want)
		}
	}
	bs, err := e.Breakers(context.Background())
	if err != nil || len(bs) != 1 || bs[0].State != "closed" || fmt.Sprint(bs[0].Callouts) != "[RMM]" {
		t.Fatalf("Breakers = %+v, %v", bs, err)
	}
}

func TestBreakerSharedSQLite(t *testing.T)   { testBreakerShared(t, sqliteDSN(t)) }
func TestBreakerSharedPostgres(t *testing.T) { testBreakerShared(t, postgresDSN(t)) }

// testBreakerShared: a breaker one engine opened holds back another engine's
// deliveries to the endpoint, and the second engine's probe closes it, with the
// close e-mail.
func testBreakerShared(t *testing.T, dsn string) {
	var fail atomic.Bool
	fail.Store(true)
	rc := failingReceiver(t, &fail)
	srv := smtptest.Start(t)
	clock := &skewClock{}
	cfg := breakerConfig(t, rc.URL, srv.Port, "")
	ep := rules.Endpoint(rc.URL)
	a := openEngine(t, Options{Config: cfg, Store: dsn, Now: clock.Now, PollInterval: 50 * time.Millisecond, NodeID: "a"})
	handleN(t, a, 1, 3)
	var b store.Breaker
	waitFor(t, 10*time.Second, "engine a to open the breaker", func() bool {
		b = breakerRow(t, a.Store(), ep)
		return b.State == store.BreakerOpen
	})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	bEng := openEngine(t, Options{Config: cfg, Store: dsn, Now: clock.Now, PollInterval: 50 * time.Millisecond, NodeID: "b"})
	ids := handleN(t, bEng, 10, 2)
	waitFor(t, 10*time.Second, "engine b's deliveries to wait for the breaker", func() bool {
		return allPostponedUntil(t, bEng.Store(), ids, b.OpenUntil)
	})
	if n := totalAttempts(t, bEng.Store(), ids); n != 0 || rc.count() != 3 {
		t.Fatalf("engine b sent while the breaker was open: %d attempts, %d requests", n, rc.count())
	}
	fail.Store(false)
	clock.advance(11 * time.Second)
	bEng.Wake()
	for _, id := range ids {
		if j, _ := waitSettled(t, bEng.Store(), id, 10*time.Second); j.Status != store.StatusDelivered || j.Attempts != 1 {
			t.Fatalf("%s: %s after %d attempts", id, j.Status, j.Attempts)
		}
	}
	waitFor(t, 10*time.Second, "the open and close e-mails", func() bool { return len(srv.Messages()) == 2 })
	if s := subjects(srv); !strings.Contains(s[0], "paused") || !strings.Contains(s[1], "resumed") {
		t.Fatalf("subjects = %q", s)
	}
}

// TestGoneStopsRetrying: a 410 answer fails the delivery at its first attempt
// although retries are left, says why in the attempt log, and notifies.
func TestGoneStopsRetrying(t *testing.T) {
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "ticket hook removed", http.StatusGone)
	})
	srv := smtptest.Start(t)
	e := openEngine(t, Options{Config: breakerConfig(t, rc.URL, srv.Port, ""), Store: sqliteDSN(t)})
	ids := handleN(t, e, 1, 1)
	j, atts := waitSettled(t, e.Store(), ids[0], 10*time.Second)
	if j.Status != store.StatusFailed || j.Attempts != 1 || len(atts) != 1 || j.MaxAttempts != 31 {
		t.Fatalf("job %+v, %d attempts", j, len(atts))
	}
	want := "HTTP 410: ticket hook removed (410 Gone: the receiver says the resource is gone for good; not retried)"
	if atts[0].Error != want || atts[0].StatusCode != 410 {
		t.Fatalf("attempt error %q (%d), want %q", atts[0].Error, atts[0].StatusCode, want)
	}
	waitFor(t, 10*time.Second, "the failure e-mail", func() bool { return len(srv.Messages()) == 1 })
	if !strings.Contains(smtptest.Parse(t, srv.Messages()[0].Data).Text, "410 Gone") {
		t.Fatalf("e-mail:\n%s", srv.Messages()[0].Data)
	}
}

func TestRateLimitSQLite(t *testing.T)   { testRateLimit(t, sqliteDSN(t)) }
func TestRateLimitPostgres(t *testing.T) { testRateLimit(t, postgresDSN(t)) }

// testRateLimit: two engines on one store share a callout's rate of 4/min: within
// one window 4 deliveries go in all, the others wait for the next window with their
// attempts unused, and so on until all are delivered.
func testRateLimit(t *testing.T, dsn string) {
	rc := newReceiver(t, nil)
	srv := smtptest.Start(t)
	// The clock starts 100 ms into a minute, so the test runs inside one window.
	now := time.Now()
	clock := &skewClock{off: now.Truncate(time.Minute).Add(time.Minute + 100*time.Millisecond).Sub(now)}
	cfg := breakerConfig(t, rc.URL, srv.Port, "    rate: 4/min")
	var engines []*Engine
	for _, node := range []string{"a", "b"} {
		engines = append(engines, openEngine(t, Options{Config: cfg, Store: dsn, Now: clock.Now, PollInterval: 50 * time.Millisecond, NodeID: node}))
	}
	var ids []string
	for i := range 10 {
		ids = append(ids, handleN(t, engines[i%2], i+1, 1)...)
	}
	st := engines[0].Store()
	counts := func() (delivered, waiting int) {
		for _, id := range ids {
			j, _, err := st.Get(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case j.Status == store.StatusDelivered:
				delivered++
			case j.Status == store.StatusPending && j.LeaseOwner == "" && j.Attempts == 0 && j.NextAt.After(clock.Now()):
				waiting++
			}
		}
		return delivered, waiting
	}
	for window, want := range []int{4, 8, 10} {
		waitFor(t, 10*time.Second, fmt.Sprintf("window %d", window), func() bool {
			d, w := counts()
			return d == want && w == len(ids)-want
		})
		if rc.count() != want {
			t.Fatalf("window %d: %d requests, want %d", window, rc.count(), want)
		}
		clock.advance(time.Minute)
		for _, e := range engines {
			e.Wake()
		}
	}
	if n := totalAttempts(t, st, ids); n != len(ids) {
		t.Fatalf("%d attempts, want %d: waiting used up retries", n, len(ids))
	}
}

// TestBreakerHoldsFastPathJobs: deliveries stored while the breaker is open come by
// the fast path and are held like claimed ones, giving their fast slot back; more
// of them than the fast path has slots are all sent once the breaker closes. (A
// held fast-path job that gave back a claim slot instead hung the settle loop.)
func TestBreakerHoldsFastPathJobs(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	rc := failingReceiver(t, &fail)
	srv := smtptest.Start(t)
	clock := &skewClock{}
	// A cool-down of an hour: under -race the test must not outlast it.
	cfg := parseConfig(t, rc.URL, fmt.Sprintf(`
smtp: {host: 127.0.0.1, port: %d, tls: none, from: ruleflow@example.com}
callouts:
  - name: RMM
    url: {{URL}}/hook
    format: name-value
    retry: {interval: 1s, max: 30}
    breaker: {failures: 3, cooldown: 1h}
rules:
  - name: Close alert
    form: Ticket
    events: [update]
    condition: "'Status' = \"Complete\""
    callouts: [RMM]
`, srv.Port))
	e := openEngine(t, Options{Config: cfg, Store: sqliteDSN(t), Now: clock.Now,
		PollInterval: 50 * time.Millisecond, Registerer: prometheus.NewRegistry()})
	st := e.Store()
	ep := rules.Endpoint(rc.URL)
	first := handleN(t, e, 1, 3)
	var b store.Breaker
	waitFor(t, 10*time.Second, "the breaker to open", func() bool {
		b = breakerRow(t, st, ep)
		return b.State == store.BreakerOpen
	})
	before := e.disp.fastPath.Load()
	held := handleN(t, e, 10, 2*cap(e.disp.fastSlots)+1)
	waitFor(t, 30*time.Second, "the new deliveries to wait for the breaker", func() bool { return allPostponedUntil(t, st, held, b.OpenUntil) })
	if got := e.disp.fastPath.Load() - before; got == 0 {
		t.Fatal("no delivery stored while open took the fast path")
	}
	if rc.count() != 3 {
		t.Fatalf("%d requests while open, want 3", rc.count())
	}
	fail.Store(false)
	clock.advance(time.Hour)
	e.Wake()
	for _, id := range append(first, held...) {
		if j, _ := waitSettled(t, st, id, 20*time.Second); j.Status != store.StatusDelivered {
			t.Fatalf("%s: %s", id, j.Status)
		}
	}
}
