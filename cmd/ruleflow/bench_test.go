package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store/storetest"
)

// runBenchCmd executes `ruleflow bench <args>` through the root command and returns
// stdout, stderr and the exit code.
func runBenchCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(append([]string{"bench"}, args...), &out, &errOut)
	return out.String(), errOut.String(), code
}

// TestBench runs a small benchmark in every format and checks the report.
func TestBench(t *testing.T) {
	for _, format := range []string{"name-value", "soap", "xmlrpc", "json"} {
		t.Run(format, func(t *testing.T) {
			out, stderr, code := runBenchCmd(t, "--n", "50", "--concurrency", "4", "--format", format, "--timeout", "30s")
			if code != exitOK {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			want := []string{
				`^ruleflow bench: 50 events, one ` + regexp.QuoteMeta(format) + ` callout each, 4 concurrent save hooks, a temporary SQLite outbox$`,
				`^handled:    50 events in [0-9.]+m?s \([0-9]+ events/s\)$`,
				`^delivered:  50 in [0-9.]+m?s: [0-9]+ deliveries/s \(([0-9]+) requests, ([0-9]+) repeated\)$`,
				`^latency:    p50 [0-9.]+[mµn]?s, p99 [0-9.]+[mµn]?s \(from Handle to receipt\)$`,
				`^raw ceiling: [0-9]+ requests/s \(plain net/http, 4 goroutines, same bodies\)$`,
				`^ratio:      [0-9]+\.[0-9]{2} of the raw ceiling$`,
			}
			if len(lines) != len(want) {
				t.Fatalf("output has %d lines, want %d:\n%s", len(lines), len(want), out)
			}
			for i, re := range want {
				if !regexp.MustCompile(re).MatchString(lines[i]) {
					t.Errorf("line %d = %q, want it to match %s", i+1, lines[i], re)
				}
			}
			if !strings.Contains(lines[2], "(50 requests, 0 repeated)") {
				t.Errorf("delivery line %q: want every delivery exactly once", lines[2])
			}
		})
	}
}

// TestBenchStore: with --store the deliveries stay in the named outbox.
func TestBenchStore(t *testing.T) {
	dsn := "sqlite:" + t.TempDir() + "/bench.db"
	out, stderr, code := runBenchCmd(t, "--n", "20", "--concurrency", "2", "--store", dsn)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.HasPrefix(out, "ruleflow bench: 20 events, one name-value callout each, 2 concurrent save hooks, the outbox "+dsn+"\n") {
		t.Errorf("output:\n%s", out)
	}
	var listOut, listErr bytes.Buffer
	if code := run([]string{"deliveries", "list", "--store", dsn}, &listOut, &listErr); code != exitOK {
		t.Fatalf("deliveries list: exit %d: %s", code, listErr.String())
	}
	if n := strings.Count(listOut.String(), "delivered"); n < 20 {
		t.Errorf("deliveries list shows %d delivered, want 20:\n%s", n, listOut.String())
	}
}

// TestBenchErrors: bad flags fail with a clear message and exit 1.
func TestBenchErrors(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--n", "0"}, "ruleflow: --n 0: want at least 1 event\n"},
		{[]string{"--concurrency", "-1"}, "ruleflow: --concurrency -1: want at least 1\n"},
		{[]string{"--workers", "-2"}, "ruleflow: --workers -2: want 0 (the default) or more\n"},
		{[]string{"--format", "csv", "--n", "1"}, "ruleflow: --format \"csv\": want name-value, soap, xmlrpc or json\n"},
		{[]string{"extra"}, "ruleflow: unknown command \"extra\" for \"ruleflow bench\"\n"},
		{[]string{"--nodes", "0"}, "ruleflow: --nodes 0: want at least 1\n"},
		{[]string{"--hooks-per-node"}, "ruleflow: --hooks-per-node: needs --nodes above 1\n"},
		{[]string{"--nodes", "3"}, "ruleflow: --nodes 3: several nodes need a shared PostgreSQL outbox (--store postgres://…)\n"},
		{[]string{"--nodes", "2", "--store", "sqlite:x.db"}, "ruleflow: --nodes 2: several nodes need a shared PostgreSQL outbox (--store postgres://…)\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			start := time.Now()
			out, stderr, code := runBenchCmd(t, tt.args...)
			if code != exitFailure || stderr != tt.wantErr || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and %q", code, out, stderr, tt.wantErr)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s to fail", d)
			}
		})
	}
}

// TestBenchNodes runs three engines on one PostgreSQL schema and checks the
// comparison with one node: every delivery once, commits counted for each run,
// with the save hooks shared by the nodes and with hooks of each node's own.
func TestBenchNodes(t *testing.T) {
	for _, tc := range []struct {
		flags []string
		head  string
	}{
		{nil, `^3 nodes, sharing the 6 save hooks:$`},
		{[]string{"--hooks-per-node"}, `^3 nodes, 6 save hooks each:$`},
	} {
		t.Run(strings.Join(append([]string{"shared"}, tc.flags...), ""), func(t *testing.T) {
			dsn := storetest.PostgresDSN(t, "rf_bench_nodes_")
			args := append([]string{"--n", "60", "--concurrency", "6", "--nodes", "3", "--store", dsn, "--timeout", "60s"}, tc.flags...)
			out, stderr, code := runBenchCmd(t, args...)
			if code != exitOK {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			want := []string{
				`^ruleflow bench: 60 events, one name-value callout each, 6 concurrent save hooks, a PostgreSQL outbox$`,
				`^one node:$`,
				`^handled:    60 events in [0-9.]+m?s \([0-9]+ events/s\)$`,
				`^delivered:  60 in [0-9.]+m?s: [0-9]+ deliveries/s \(60 requests, 0 repeated\)$`,
				`^latency:    p50 [0-9.]+[mµn]?s, p99 [0-9.]+[mµn]?s \(from Handle to receipt\)$`,
				`^commits:    [0-9]+\.[0-9]{3} per delivery \([1-9][0-9]* write transactions\)$`,
				tc.head,
				`^handled:    60 events in [0-9.]+m?s \([0-9]+ events/s\)$`,
				`^delivered:  60 in [0-9.]+m?s: [0-9]+ deliveries/s \(60 requests, 0 repeated\)$`,
				`^latency:    p50 [0-9.]+[mµn]?s, p99 [0-9.]+[mµn]?s \(from Handle to receipt\)$`,
				`^commits:    [0-9]+\.[0-9]{3} per delivery \([1-9][0-9]* write transactions, per node [1-9][0-9]* \+ [1-9][0-9]* \+ [1-9][0-9]*\)$`,
				`^nodes:      3 nodes deliver [0-9]+\.[0-9]{2}× one node$`,
				`^raw ceiling: [0-9]+ requests/s \(plain net/http, 6 goroutines, same bodies\)$`,
				`^ratio:      [0-9]+\.[0-9]{2} of the raw ceiling$`,
				`^ratio:      [0-9]+\.[0-9]{2} of the raw ceiling with 3 nodes$`,
			}
			if len(lines) != len(want) {
				t.Fatalf("output has %d lines, want %d:\n%s", len(lines), len(want), out)
			}
			for i, re := range want {
				if !regexp.MustCompile(re).MatchString(lines[i]) {
					t.Errorf("line %d = %q, want it to match %s", i+1, lines[i], re)
				}
			}
		})
	}
}

// TestPercentile checks the nearest-rank quantiles bench reports.
func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{nil, 0.5, 0},
		{ms(7), 0.99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.5, 5 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.99, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.q); got != tt.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.q, got, tt.want)
		}
	}
}

// TestBenchCPUProfile: --cpuprofile writes a profile (gzip-compressed protobuf, as
// pprof reads it).
func TestBenchCPUProfile(t *testing.T) {
	path := t.TempDir() + "/cpu.prof"
	if _, stderr, code := runBenchCmd(t, "--n", "20", "--concurrency", "2", "--cpuprofile", path); code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("profile %s: %v", path, err)
	}
	if n, err := io.Copy(io.Discard, z); err != nil || n == 0 {
		t.Fatalf("profile %s: %d bytes, %v", path, n, err)
	}
}
