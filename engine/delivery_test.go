package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// handleOne handles ev, which must fire exactly one callout, and returns its delivery ID.
func handleOne(t testing.TB, e *Engine, ev *rules.Event) string {
	t.Helper()
	res, err := e.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if len(res.Fired) != 1 || res.Fired[0].DeliveryID == "" {
		t.Fatalf("fired %d callouts (%v), want one with a delivery ID", len(res.Fired), firedNames(res))
	}
	return res.Fired[0].DeliveryID
}

// attemptSummary is what a test compares of one recorded attempt.
type attemptSummary struct {
	N        int
	Status   int
	Error    string
	Response string
}

func summarize(attempts []store.Attempt) []attemptSummary {
	out := make([]attemptSummary, len(attempts))
	for i, a := range attempts {
		out[i] = attemptSummary{N: a.N, Status: a.StatusCode, Error: a.Error, Response: string(a.Response)}
	}
	return out
}

// failFirst answers the first n requests with 500 "boom <i>", then 200 "accepted <i>".
func failFirst(n int) func(int, http.ResponseWriter, *http.Request) {
	return func(i int, w http.ResponseWriter, r *http.Request) {
		if i <= n {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, "boom %d", i)
			return
		}
		fmt.Fprintf(w, "accepted %d", i)
	}
}

// TestDeliverAfterFailures: a receiver that fails the first N requests, then
// succeeds, gets the delivery after N retries, one retry interval apart, with the
// same Idempotency-Key every time; every attempt is recorded with its status code
// and response excerpt.
func TestDeliverAfterFailures(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 2} {
		t.Run(fmt.Sprintf("fail %d", n), func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t, failFirst(n))
			cfg := parseConfig(t, rc.URL, strings.Replace(oneCallout, "max: 2", "max: 3", 1))
			e := openEngine(t, Options{Config: cfg, Store: sqliteDSN(t), Lease: 5 * time.Second})
			id := handleOne(t, e, completeEvent(8176))
			job, attempts := waitSettled(t, e.Store(), id, 10*time.Second)

			var want []attemptSummary
			for i := 1; i <= n; i++ {
				want = append(want, attemptSummary{N: i, Status: 500, Error: fmt.Sprintf("HTTP 500: boom %d", i), Response: fmt.Sprintf("boom %d", i)})
			}
			want = append(want, attemptSummary{N: n + 1, Status: 200, Response: fmt.Sprintf("accepted %d", n+1)})
			if diff := cmp.Diff(want, summarize(attempts)); diff != "" {
				t.Errorf("attempts (-want +got):\n%s", diff)
			}
			if job.Status != store.StatusDelivered || job.Attempts != n+1 || job.LastStatusCode != 200 || job.LastError != "" {
				t.Errorf("job = %s after %d attempts, last %d %q; want delivered after %d, last 200", job.Status, job.Attempts, job.LastStatusCode, job.LastError, n+1)
			}
			hits := rc.requests()
			if len(hits) != n+1 {
				t.Fatalf("receiver saw %d requests, want %d", len(hits), n+1)
			}
			for i, h := range hits {
				if h.Key != id {
					t.Errorf("request %d: Idempotency-Key %q, want the delivery ID %q", i+1, h.Key, id)
				}
				if h.Method != "POST" || h.Path != "/hook" || h.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
					t.Errorf("request %d: %s %s %s", i+1, h.Method, h.Path, h.Header.Get("Content-Type"))
				}
				if got := h.Header.Get("User-Agent"); got != "ruleflow/"+Version() {
					t.Errorf("request %d: User-Agent %q", i+1, got)
				}
				if i > 0 {
					if gap := h.At.Sub(hits[i-1].At); gap < 900*time.Millisecond {
						t.Errorf("retry %d came %s after the previous attempt, want the 1s interval", i, gap)
					}
				}
			}
		})
	}
}

// TestDeliverGivesUp: a receiver that is down for good gets exactly 1 + max
// attempts, after which the delivery is failed and nothing more is sent.
func TestDeliverGivesUp(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusBadGateway)
	})
	cfg := parseConfig(t, rc.URL, oneCallout) // retry: {interval: 1s, max: 2}
	e := openEngine(t, Options{Config: cfg, Store: sqliteDSN(t), Lease: 5 * time.Second})
	id := handleOne(t, e, completeEvent(1))
	job, attempts := waitSettled(t, e.Store(), id, 10*time.Second)
	if job.Status != store.StatusFailed || job.Attempts != 3 {
		t.Fatalf("job %s after %d attempts, want failed after 3", job.Status, job.Attempts)
	}
	want := []attemptSummary{
		{N: 1, Status: 502, Error: "HTTP 502: maintenance", Response: "maintenance\n"},
		{N: 2, Status: 502, Error: "HTTP 502: maintenance", Response: "maintenance\n"},
		{N: 3, Status: 502, Error: "HTTP 502: maintenance", Response: "maintenance\n"},
	}
	if diff := cmp.Diff(want, summarize(attempts)); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
	// The job is failed in the store: no dispatcher claims it again, and its last
	// request was counted on arrival, before its outcome was recorded. So the count
	// is final now; no waiting for something not to happen.
	if n := rc.count(); n != 3 {
		t.Errorf("receiver saw %d requests, want exactly 3", n)
	}
}

// TestDeliverNetworkError: a receiver that does not listen fails every attempt with
// a network error and no status code.
func TestDeliverNetworkError(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	url := rc.URL
	rc.Close() // nothing listens there any more
	cfg := parseConfig(t, url, strings.Replace(oneCallout, "max: 2", "max: 0", 1))
	e := openEngine(t, Options{Config: cfg, Store: sqliteDSN(t)})
	id := handleOne(t, e, completeEvent(1))
	job, attempts := waitSettled(t, e.Store(), id, 10*time.Second)
	if job.Status != store.StatusFailed || len(attempts) != 1 || attempts[0].StatusCode != 0 {
		t.Fatalf("job %s with attempts %+v, want failed after one attempt without status", job.Status, summarize(attempts))
	}
	if !strings.Contains(attempts[0].Error, "connection refused") {
		t.Errorf("attempt error = %q, want a connection refused", attempts[0].Error)
	}
}

// TestDeliverBasicAuthEncrypted: a callout password stored as enc:v1: is decrypted
// with Options.Key and sent as HTTP Basic auth; it appears in no attempt record and
// no log line, even when the receiver echoes it back.
func TestDeliverBasicAuthEncrypted(t *testing.T) {
	t.Parallel()
	const password = "s3cret-Pa55word"
	enc, err := testKey(t).Encrypt(password)
	if err != nil {
		t.Fatal(err)
	}
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		if n == 1 { // echo the credentials in a failure, as a careless server might
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, "bad login %s:%s (%s)", user, pass, r.Header.Get("Authorization"))
			return
		}
		io.WriteString(w, "ok")
	})
	cfg := parseConfig(t, rc.URL, strings.Replace(oneCallout, "format: name-value", "format: name-value\n    username: svc-autotask\n    password: "+enc, 1))
	logs := &logBuffer{}
	e := openEngine(t, Options{Config: cfg, Store: sqliteDSN(t),
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	id := handleOne(t, e, completeEvent(2))
	job, attempts := waitSettled(t, e.Store(), id, 10*time.Second)
	if job.Status != store.StatusDelivered || len(attempts) != 2 {
		t.Fatalf("job %s after %d attempts, want delivered after 2", job.Status, len(attempts))
	}
	for _, h := range rc.requests() {
		if h.User != "svc-autotask" || h.Password != password {
			t.Errorf("receiver got Basic auth %q / %q, want svc-autotask and the decrypted password", h.User, h.Password)
		}
	}
	basic := rc.requests()[0].Auth[len("Basic "):]
	for _, a := range attempts {
		record := fmt.Sprintf("%+v %s", a, a.Response)
		if strings.Contains(record, password) || strings.Contains(record, basic) {
			t.Errorf("attempt %d record leaks the password: %s", a.N, record)
		}
	}
	if strings.Contains(job.LastError, password) {
		t.Errorf("job last error leaks the password: %s", job.LastError)
	}
	if l := logs.String(); strings.Contains(l, password) || strings.Contains(l, basic) {
		t.Errorf("logs leak the password:\n%s", l)
	}
}

// TestDeliverRetryAfter: a 503 with Retry-After delays the next attempt beyond the
// retry interval.
func TestDeliverRetryAfter(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	})
	e := openEngine(t, Options{Config: parseConfig(t, rc.URL, oneCallout), Store: sqliteDSN(t)})
	id := handleOne(t, e, completeEvent(3))
	job, _ := waitSettled(t, e.Store(), id, 10*time.Second)
	if job.Status != store.StatusDelivered {
		t.Fatalf("job %s, want delivered", job.Status)
	}
	hits := rc.requests()
	if len(hits) != 2 {
		t.Fatalf("receiver saw %d requests, want 2", len(hits))
	}
	if gap := hits[1].At.Sub(hits[0].At); gap < 1950*time.Millisecond {
		t.Errorf("second attempt %s after the first, want at least the 2s of Retry-After", gap)
	}
}

// TestDeliverFormats: SOAP and XML-RPC callouts go out with their wire headers, and a
// fault in a 2xx response is a failed attempt that is retried.
func TestDeliverFormats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, callout, fault, wantCT, wantHeader string
	}{
		{"soap", "format: soap\n    method_name: CloseAlarm\n    soap_action: http://tempuri.org/CloseAlarm",
			`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>soap:Server</faultcode><faultstring>alarm locked</faultstring></soap:Fault></soap:Body></soap:Envelope>`,
			"text/xml; charset=utf-8", `"http://tempuri.org/CloseAlarm"`},
		{"xmlrpc", "format: xmlrpc\n    method_name: closeAlarm",
			`<?xml version="1.0"?><methodResponse><fault><value><struct><member><name>faultCode</name><value><int>4</int></value></member><member><name>faultString</name><value><string>alarm locked</string></value></member></struct></value></fault></methodResponse>`,
			"text/xml", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					io.WriteString(w, tt.fault)
					return
				}
				io.WriteString(w, "<ok/>")
			})
			cfg := parseConfig(t, rc.URL, strings.Replace(oneCallout, "format: name-value", tt.callout, 1))
			e := openEngine(t, Options{Config: cfg, Store: sqliteDSN(t)})
			id := handleOne(t, e, completeEvent(4))
			job, attempts := waitSettled(t, e.Store(), id, 10*time.Second)
			if job.Status != store.StatusDelivered || len(attempts) != 2 {
				t.Fatalf("job %s after %d attempts, want delivered after 2", job.Status, len(attempts))
			}
			if attempts[0].StatusCode != 200 || !strings.Contains(attempts[0].Error, "alarm locked") {
				t.Errorf("first attempt = %d %q, want 200 and the fault", attempts[0].StatusCode, attempts[0].Error)
			}
			h := rc.requests()[0]
			if got := h.Header.Get("Content-Type"); got != tt.wantCT {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantCT)
			}
			if got := h.Header.Get("SOAPAction"); got != tt.wantHeader {
				t.Errorf("SOAPAction = %q, want %q", got, tt.wantHeader)
			}
		})
	}
}

// TestCloseWaitsForInFlight: Close waits for a slow request in flight and records
// its outcome before it returns.
func TestCloseWaitsForInFlight(t *testing.T) {
	t.Parallel()
	arrived, release := make(chan struct{}), make(chan struct{})
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		io.WriteString(w, "slow but fine")
	})
	dsn := sqliteDSN(t)
	e := openEngine(t, Options{Config: parseConfig(t, rc.URL, oneCallout), Store: dsn})
	id := handleOne(t, e, completeEvent(5))
	<-arrived
	closed := make(chan error, 1)
	go func() { closed <- e.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a delivery was in flight", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return after the request finished")
	}
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	job, attempts, err := st.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	want := []attemptSummary{{N: 1, Status: 200, Response: "slow but fine"}}
	if diff := cmp.Diff(want, summarize(attempts)); diff != "" || job.Status != store.StatusDelivered {
		t.Errorf("after Close: job %s, attempts (-want +got):\n%s", job.Status, diff)
	}
}

// TestCloseReleasesLeases: a request still hanging at the shutdown deadline is
// aborted and given back, and Close releases the leases this node holds,
// so another engine delivers at once instead of waiting for the (hour-long) lease;
// the attempt shutdown cut off is recorded in the attempt log.
func TestCloseReleasesLeases(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(hang) }) })
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		io.WriteString(w, "ok")
	})
	dsn := sqliteDSN(t)
	cfg := parseConfig(t, rc.URL, oneCallout)
	first := openEngine(t, Options{Config: cfg, Store: dsn, Lease: time.Hour, Workers: 1})
	id := handleOne(t, first, completeEvent(6))
	waitFor(t, 5*time.Second, "the first request", func() bool { return rc.count() == 1 })
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := first.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want the context's deadline error (an attempt was cut off)", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Shutdown took %s with a 300ms deadline", d)
	}
	if err := first.Shutdown(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second Shutdown = %v, want the first call's result", err)
	}

	// Read the job before a second engine opens: its dispatcher would claim the
	// released job at once, setting a lease owner of its own.
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	job, _, err := st.Get(context.Background(), id)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	second := openEngine(t, Options{Config: cfg, Store: dsn, Lease: time.Hour})
	if job.Attempts != 1 || job.LeaseOwner != "" || !strings.HasPrefix(job.LastError, "attempt cut off by shutdown") {
		t.Errorf("after Close: %d attempts, last error %q, lease owner %q; want the aborted attempt recorded and the lease released",
			job.Attempts, job.LastError, job.LeaseOwner)
	}
	job, attempts := waitSettled(t, second.Store(), id, 5*time.Second)
	if job.Status != store.StatusDelivered || len(attempts) != 2 || !strings.HasPrefix(attempts[0].Error, "attempt cut off by shutdown") {
		t.Errorf("second engine: job %s after %d attempts (%+v), want delivered after the cut-off one and 1 more", job.Status, len(attempts), summarize(attempts))
	}
}

// TestDeliverCalloutRemoved: a delivery whose callout a Reload removed fails at its
// next attempt, naming the reason.
func TestDeliverCalloutRemoved(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	e := openEngine(t, Options{Config: parseConfig(t, rc.URL, oneCallout), Store: sqliteDSN(t), NoDispatch: true})
	id := handleOne(t, e, completeEvent(7))
	dsn := e.opts.Store
	e.Close()
	other := parseConfig(t, rc.URL, `
callouts:
  - {name: Other, url: "{{URL}}/other", format: name-value}
rules:
  - {name: other, form: Ticket, events: [create], callouts: [Other]}
`)
	e2 := openEngine(t, Options{Config: other, Store: dsn})
	job, attempts := waitSettled(t, e2.Store(), id, 5*time.Second)
	want := []attemptSummary{{N: 1, Error: `callout "RMM" is no longer configured`}}
	if diff := cmp.Diff(want, summarize(attempts)); diff != "" || job.Status != store.StatusFailed {
		t.Errorf("job %s, attempts (-want +got):\n%s", job.Status, diff)
	}
	if rc.count() != 0 {
		t.Errorf("receiver saw %d requests, want none", rc.count())
	}
}
