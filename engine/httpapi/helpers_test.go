package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// adminToken is the admin token of every test server.
const adminToken = "test-admin-token-0123456789"

// testKeyHex is the secrets key of the tests (32 bytes as hex).
const testKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// fakeClock is a settable clock for rate limits.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testServer is the real handler over a real engine on a real store, served by
// httptest on a loopback port.
type testServer struct {
	t     *testing.T
	srv   *httptest.Server
	eng   *engine.Engine
	h     *Handler
	dsn   string
	logs  *syncBuffer
	clock *fakeClock
	reg   *prometheus.Registry
	boot  string // what Bootstrap printed
}

type serverConfig struct {
	dsn        string // default: a fresh SQLite file
	configFile string // default: testdata/ruleflow.yaml
	opts       Options
	dispatch   bool
	// noAdminToken leaves Options.AdminToken empty instead of setting adminToken.
	noAdminToken bool
}

func testKey(t testing.TB) *rules.Key {
	t.Helper()
	k, err := rules.ParseKey(testKeyHex)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func loadConfig(t testing.TB, path string) *rules.Config {
	t.Helper()
	if path == "" {
		path = filepath.Join("testdata", "ruleflow.yaml")
	}
	cfg, err := rules.Load(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return cfg
}

// newTestServer starts a server; it is shut down by the test's cleanup.
func newTestServer(t *testing.T, sc serverConfig) *testServer {
	t.Helper()
	if sc.dsn == "" {
		sc.dsn = "sqlite:" + filepath.Join(t.TempDir(), "ruleflow.db")
	}
	ts := &testServer{t: t, dsn: sc.dsn, logs: &syncBuffer{}, clock: &fakeClock{t: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}}
	log := slog.New(slog.NewTextHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts.reg = prometheus.NewRegistry()
	eng, err := engine.Open(context.Background(), engine.Options{
		Config:     loadConfig(t, sc.configFile),
		Store:      sc.dsn,
		Key:        testKey(t),
		Logger:     log,
		Registerer: ts.reg,
		NoDispatch: !sc.dispatch,
	})
	if err != nil {
		t.Fatalf("engine.Open: %v", err)
	}
	ts.eng = eng
	opts := sc.opts
	opts.Engine = eng
	if opts.AdminToken == "" && !opts.InsecureNoAuth && !sc.noAdminToken {
		opts.AdminToken = adminToken
	}
	opts.Logger = log
	opts.Registerer, opts.Gatherer = ts.reg, ts.reg
	if opts.Now == nil {
		opts.Now = ts.clock.Now
	}
	h, err := New(opts)
	if err != nil {
		eng.Close()
		t.Fatalf("New: %v", err)
	}
	ts.h = h
	ts.srv = httptest.NewServer(h)
	var boot bytes.Buffer
	if err := h.Bootstrap(context.Background(), &boot, ts.srv.URL); err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	ts.boot = boot.String()
	t.Cleanup(ts.close)
	return ts
}

// close shuts the server down; it may be called more than once.
func (ts *testServer) close() {
	if ts.srv != nil {
		ts.srv.Close()
		ts.srv = nil
	}
	if ts.eng != nil {
		ts.eng.Close()
		ts.eng = nil
	}
}

// response is what a request got.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request; headers are name, value pairs. An admin request gets the
// admin token unless headers set Authorization.
func (ts *testServer) do(method, path string, body any, headers ...string) response {
	ts.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			ts.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, ts.srv.URL+path, rd)
	if err != nil {
		ts.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	switch req.Header.Get("Content-Type") {
	case "-":
		req.Header.Del("Content-Type")
	case "":
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	resp, err := ts.srv.Client().Do(req)
	if err != nil {
		ts.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// admin sends a request with the admin token.
func (ts *testServer) admin(method, path string, body any, headers ...string) response {
	ts.t.Helper()
	return ts.do(method, path, body, append([]string{"Authorization", "Bearer " + adminToken}, headers...)...)
}

// jobs lists every outbox job.
func (ts *testServer) jobs() []store.Job {
	ts.t.Helper()
	jobs, err := ts.eng.Store().List(context.Background(), store.Filter{Limit: 1000})
	if err != nil {
		ts.t.Fatal(err)
	}
	return jobs
}

// errorJSON is the body of an error response with msg.
func errorJSON(msg string) string {
	b, _ := json.Marshal(errorBody{Error: msg})
	return string(b) + "\n"
}

// decode unmarshals a response body into v.
func decode(t *testing.T, r response, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

// firedRules lists "rule/callout" of a fired list, with each delivery ID checked.
func firedRules(t *testing.T, fired []firedJSON) []string {
	t.Helper()
	out := []string{}
	for _, f := range fired {
		if !strings.HasPrefix(f.DeliveryID, "dlv_") {
			t.Errorf("fired %s/%s: delivery id %q, want dlv_…", f.Rule, f.Callout, f.DeliveryID)
		}
		out = append(out, f.Rule+"/"+f.Callout)
	}
	return out
}
