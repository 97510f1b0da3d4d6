package httpapi

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the store's driver, to generate the rows in bulk

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/engine/store"
)

// scaleEnv names the number of deliveries BenchmarkListsAtScale stores (it takes
// about half a minute to generate 1,000,000); unset, the benchmark skips.
const scaleEnv = "RULEFLOW_BENCH_DELIVERIES"

// scaleCallouts is how many callouts the generated deliveries are spread over.
const scaleCallouts = 10

// generateStore fills a new SQLite store with n jobs created one a second up to
// now, with IDs as NewID makes them: 95 % callout deliveries spread over
// scaleCallouts callouts and 0.1 % to callout Rare (80 % delivered, 15 % failed,
// 5 % pending of all jobs),
// 5 % e-mails; entry IDs cycle over 10,000 tickets. It writes with multi-row
// INSERTs in one transaction, far faster than Enqueue, into the schema Open
// created (its triggers keep the callout counts).
func generateStore(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "scale.db")
	st, err := store.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		b.Fatal(err)
	}
	st.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(off)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()

	start := time.Now()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	const batch = 500
	row := "(?, ?, ?, ?, 'Ticket', ?, 'update', CAST('{\"request\":{\"method\":\"POST\",\"url\":\"http://127.0.0.1:9/x\",\"body\":\"aWQ9MQ==\"}}' AS BLOB), '', ?, 1, 11, 11, ?, ?, ?, ?, ?)"
	stmt, err := tx.Prepare(`INSERT INTO jobs (id, kind, callout, rule, form, entry_id, event_kind, payload, parent_id, status, attempts,
	max_attempts, retry_budget, next_at, created_at, updated_at, last_status_code, last_error) VALUES ` + strings.TrimSuffix(strings.Repeat(row+", ", batch), ", "))
	if err != nil {
		b.Fatal(err)
	}
	first := time.Now().Add(-time.Duration(n) * time.Second)
	args := make([]any, 0, 13*batch)
	for i := 0; i < n; i++ {
		created := first.Add(time.Duration(i) * time.Second)
		kind, status, code, msg := "callout", "delivered", 200, ""
		switch {
		case i%20 == 19:
			kind = "email"
		case i%20 >= 16:
			status, code, msg = "failed", 503, "HTTP 503: busy"
		case i%20 == 15:
			status, code, msg = "pending", 503, "HTTP 503: busy"
		}
		callout := fmt.Sprintf("C%d", (i/20)%scaleCallouts)
		if i%1000 == 7 {
			callout = "Rare" // 0.1 %: a filter whose rows are far apart
		}
		us := created.UnixMicro()
		args = append(args, store.NewID(store.JobIDPrefix, created), kind, callout, fmt.Sprintf("R%d", i%7),
			strconv.Itoa(i%10000), status, us, us, us, code, msg)
		if len(args) == cap(args) || i == n-1 {
			if len(args) < cap(args) { // the last, short batch: pad with rows deleted below
				for k := i + 1; len(args) < cap(args); k++ {
					args = append(args, fmt.Sprintf("pad_%012d", k), "callout", "pad", "", "", "delivered", 0, 0, 0, 0, "")
				}
			}
			if _, err := stmt.Exec(args...); err != nil {
				b.Fatal(err)
			}
			args = args[:0]
		}
	}
	if _, err := tx.Exec("DELETE FROM jobs WHERE callout = 'pad'"); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec("ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d deliveries in %s", n, time.Since(start).Round(time.Millisecond))
	return path
}

// BenchmarkListsAtScale measures the operator's lists on a SQLite store holding
// RULEFLOW_BENCH_DELIVERIES deliveries (1,000,000 for the README): each case
// runs its request through the real handler and reports the p50, p95 and max
// latency (target: p95 ≤ 200 ms).
func BenchmarkListsAtScale(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv(scaleEnv))
	if n <= 0 {
		b.Skip(scaleEnv + " is not set: skipping the benchmark of the lists over a generated store (set it to 1000000)")
	}
	path := generateStore(b, n)
	cfgPath := filepath.Join(b.TempDir(), "ruleflow.yaml")
	var cfg strings.Builder
	cfg.WriteString("version: 1\nforms:\n  Ticket:\n    fields:\n      TicketID: {id: 1, type: integer}\ncallouts:\n")
	for i := range scaleCallouts {
		fmt.Fprintf(&cfg, "  - {name: C%d, url: \"http://127.0.0.1:9/c%d\", format: json}\n", i, i)
	}
	cfg.WriteString("  - {name: Rare, url: \"http://127.0.0.1:9/rare\", format: json}\n")
	cfg.WriteString("rules:\n")
	for i := range 7 {
		fmt.Fprintf(&cfg, "  - {name: R%d, form: Ticket, events: [update], callouts: [C%d]}\n", i, i)
	}
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	ts := newBenchServer(b, "sqlite:"+path, cfgPath)
	mid := fmt.Sprintf("dlv_%012d", n/2)
	cases := []struct{ name, method, path, body string }{
		{"deliveries-first-page", "GET", "/v1/deliveries?limit=100", ""},
		{"deliveries-middle-page", "GET", "/v1/deliveries?limit=100&after=" + mid, ""},
		{"deliveries-failed", "GET", "/v1/deliveries?status=failed&limit=100&after=" + mid, ""},
		{"deliveries-pending", "GET", "/v1/deliveries?status=pending&limit=100", ""},
		{"deliveries-callout", "GET", "/v1/deliveries?kind=callout&callout=C3&limit=100&after=" + mid, ""},
		{"deliveries-callout-failed", "GET", "/v1/deliveries?kind=callout&callout=C3&status=failed&limit=100", ""},
		{"deliveries-rare-callout", "GET", "/v1/deliveries?callout=Rare&limit=100&after=" + mid, ""},
		{"deliveries-rare-callout-from-start", "GET", "/v1/deliveries?callout=Rare&limit=100", ""},
		{"deliveries-unused-callout", "GET", "/v1/deliveries?callout=Unused&limit=100", ""},
		{"deliveries-entry", "GET", "/v1/deliveries?form=Ticket&entry_id=4242&limit=100", ""},
		{"callouts", "GET", "/v1/callouts", ""},
		{"rules", "GET", "/v1/rules", ""},
		{"retry-dry-run", "POST", "/v1/deliveries/retry", `{"status":"failed","since":"1h","dry_run":true}`},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				status, body := ts.call(tc.method, tc.path, tc.body)
				lat = append(lat, time.Since(start))
				empty := strings.Contains(body, `{"count":0}`) || strings.HasPrefix(body, `{"deliveries":[]`)
				if status != http.StatusOK || empty != strings.Contains(tc.path, "Unused") {
					b.Fatalf("%s %s = %d %s (want deliveries, none for Unused)", tc.method, tc.path, status, body)
				}
			}
			slices.Sort(lat)
			q := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
			}
			b.ReportMetric(q(0.50), "p50-ms")
			b.ReportMetric(q(0.95), "p95-ms")
			b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
		})
	}
}

// benchServer is the handler over an engine on an existing store, for benchmarks.
type benchServer struct {
	url    string
	client *http.Client
}

func newBenchServer(b *testing.B, dsn, cfgPath string) *benchServer {
	b.Helper()
	eng, err := engine.Open(context.Background(), engine.Options{
		Config: loadConfig(b, cfgPath), Store: dsn, Key: testKey(b), NoDispatch: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	h, err := New(Options{Engine: eng, AdminToken: adminToken, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	return &benchServer{url: srv.URL, client: srv.Client()}
}

func (s *benchServer) call(method, path, body string) (int, string) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
