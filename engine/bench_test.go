package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ruleflow/ruleflow/callouts"
	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// benchForms and benchRulesPerForm size the rule set of BenchmarkHandle: 1,000 rules
// over 10 forms.
const (
	benchForms        = 10
	benchRulesPerForm = 100
)

// benchConfig builds 10 forms with 100 update rules each. The conditions cycle
// through equality, LIKE, selection order, NULL tests and TR./DB. references; for
// benchEvent exactly five rules of form F0 hold (40, 41, 42, 43 and 44), each firing
// one callout of a different format.
func benchConfig(tb testing.TB, url string) *rules.Config {
	cfg, err := rules.Parse("bench.yaml", []byte(benchYAML(url)))
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// benchYAML is the configuration text of benchConfig.
func benchYAML(url string) string {
	var b strings.Builder
	b.WriteString("version: 1\ntimezone: America/New_York\ndomain: BENCH.COM\nforms:\n")
	for f := range benchForms {
		fmt.Fprintf(&b, `  F%d:
    fields:
      TicketID:     {id: 1, type: integer}
      TicketNumber: {id: 2, type: character}
      Title:        {id: 3, type: character}
      Status:       {id: 7, type: selection, options: [New, In Progress, Waiting Customer, Complete]}
      Priority:     {id: 8, type: selection, options: [Low, Medium, High, Critical]}
      Queue:        {id: 9, type: integer}
      Account:      {id: 10, type: integer}
      Region:       {id: 11, type: integer}
      Owner:        {id: 12, type: character}
      CreateDate:   {id: 4, type: datetime}
      LastActivityDate: {id: 6, type: datetime}
      RMM Alert ID: {id: 536870913, type: character}
    callout_fields: {id: TicketID, number: TicketNumber, status: Status, created_datetime: CreateDate, last_activity_datetime: LastActivityDate}
`, f)
	}
	b.WriteString(`callouts:
  - {name: nv, url: "{{URL}}/nv", format: name-value, udf: RMM Alert ID}
  - {name: nvget, url: "{{URL}}/nvget", method: GET, format: name-value}
  - {name: soap, url: "{{URL}}/soap", format: soap, method_name: CloseAlarm, soap_action: "http://tempuri.org/CloseAlarm"}
  - {name: xmlrpc, url: "{{URL}}/xmlrpc", format: xmlrpc, method_name: closeAlarm}
  - {name: json, url: "{{URL}}/json", format: json}
rules:
`)
	calloutOf := []string{"nv", "nvget", "soap", "xmlrpc", "json"}
	for f := range benchForms {
		for i := range benchRulesPerForm {
			var cond string
			switch i % 5 {
			case 0:
				cond = fmt.Sprintf(`'Status' = "Complete" AND 'Queue' = %d`, i)
			case 1:
				cond = fmt.Sprintf(`'Title' LIKE "%%outage%d%%"`, i)
			case 2:
				cond = fmt.Sprintf(`'Priority' < "High" AND 'Account' = %d`, i)
			case 3:
				cond = fmt.Sprintf(`('Owner' = $NULL$ OR 'RMM Alert ID' != $NULL$) AND 'Region' = %d`, i)
			case 4:
				cond = fmt.Sprintf(`'TR.Status' = "Complete" AND 'DB.Status' != "Complete" AND 'DB.Queue' = %d`, i)
			}
			fmt.Fprintf(&b, "  - {name: F%d-R%d, form: F%d, events: [update], condition: %q, callouts: [%s]}\n",
				f, i, f, cond, calloutOf[i%5])
		}
	}
	return strings.ReplaceAll(b.String(), "{{URL}}", url)
}

// benchEvent is an update of form F0 that five rules match.
func benchEvent() *rules.Event {
	created := time.Date(2026, 11, 20, 10, 43, 34, 903000000, time.UTC)
	return &rules.Event{
		Kind:    rules.KindUpdate,
		Form:    "F0",
		EntryID: "8176",
		User:    "jsmith",
		Time:    time.Date(2026, 11, 20, 15, 23, 58, 0, time.UTC),
		Before: rules.Record{"TicketID": int64(8176), "TicketNumber": "T20261120.0001", "Status": "In Progress",
			"Queue": int64(44), "Title": "mail outage41 in EU", "Priority": "Medium", "Account": int64(42), "Region": int64(43),
			"CreateDate": created, "LastActivityDate": created},
		After: rules.Record{"TicketID": int64(8176), "TicketNumber": "T20261120.0001", "Status": "Complete",
			"Queue": int64(40), "Title": "mail outage41 in EU", "Priority": "Medium", "Account": int64(42), "Region": int64(43),
			"RMM Alert ID": "A-17", "CreateDate": created, "LastActivityDate": created.Add(4 * time.Hour)},
	}
}

// TestBenchConfig checks the benchmark's premise: 1,000 rules, five of which fire.
func TestBenchConfig(t *testing.T) {
	cfg := benchConfig(t, "http://127.0.0.1:9")
	if n := len(cfg.Rules); n != benchForms*benchRulesPerForm {
		t.Fatalf("%d rules, want %d", n, benchForms*benchRulesPerForm)
	}
	e := openEngine(t, Options{Config: cfg})
	res, err := e.Handle(context.Background(), benchEvent())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"F0-R40/nv", "F0-R41/nvget", "F0-R42/soap", "F0-R43/xmlrpc", "F0-R44/json"}
	if got := firedNames(res); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("fired %q, want %q", got, want)
	}
}

// BenchmarkHandle: one update event against 1,000 rules (100 on its form), without a
// store: match, evaluate and render the five callouts it fires (target ≤ 20 µs/op).
// The no-match case evaluates the same 100 conditions and fires nothing, which
// separates the cost of the rules from the cost of rendering.
func BenchmarkHandle(b *testing.B) {
	e := openEngine(b, Options{Config: benchConfig(b, "http://127.0.0.1:9")})
	noMatch := benchNoMatchEvent() // handle_bench_test.go
	for _, bc := range []struct {
		name  string
		ev    *rules.Event
		fires int
	}{{"fire5", benchEvent(), 5}, {"nomatch", noMatch, 0}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				res, err := e.Handle(ctx, bc.ev)
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Fired) != bc.fires {
					b.Fatalf("fired %d, want %d", len(res.Fired), bc.fires)
				}
			}
		})
	}
	// issue 14: fire5 and nomatch alternated in one loop, and their ratio
	b.Run("paired", benchHandlePaired)
	b.Run("actions", benchActions) // issue 13: set rules and a cascade pass vs their conditions alone
}

// BenchmarkHandleDurable is BenchmarkHandle with a SQLite outbox (no dispatcher):
// each Handle stores its five deliveries before it returns. Parallel callers share
// group commits. history=on records the event history in the same transaction (the
// default); history=off is `history: {keep: 0}`; their ratio is the history's cost.
func BenchmarkHandleDurable(b *testing.B) {
	for _, parallel := range []bool{false, true} {
		name := "serial"
		if parallel {
			name = "parallel"
		}
		for _, history := range []string{"off", "on"} {
			b.Run(name+"/history="+history, func(b *testing.B) {
				cfg := benchConfig(b, "http://127.0.0.1:9")
				if history == "off" {
					var err error
					cfg, err = rules.Parse("bench.yaml", []byte(benchYAML("http://127.0.0.1:9")+"history: {keep: 0}\n"))
					if err != nil {
						b.Fatal(err)
					}
				}
				benchHandleDurable(b, cfg, parallel)
			})
		}
	}
}

// BenchmarkHandleDurablePaired is BenchmarkHandleDurable/serial with history off
// and on alternated in one loop, each engine on its own SQLite file: both see the
// same disk at the same time, so on/off is the history's cost without the drift
// between two sub-benchmarks run one after the other on a shared machine.
func BenchmarkHandleDurablePaired(b *testing.B) {
	off, err := rules.Parse("bench.yaml", []byte(benchYAML("http://127.0.0.1:9")+"history: {keep: 0}\n"))
	if err != nil {
		b.Fatal(err)
	}
	engines := []*Engine{
		openEngine(b, Options{Config: off, Store: sqliteDSN(b), NoDispatch: true}),
		openEngine(b, Options{Config: benchConfig(b, "http://127.0.0.1:9"), Store: sqliteDSN(b), NoDispatch: true}),
	}
	ctx := context.Background()
	ev := benchEvent()
	for _, e := range engines { // the first Handle stores the rule list
		if _, err := e.Handle(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	var spent [2][]time.Duration
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := i % 2
		start := time.Now()
		if _, err := engines[k].Handle(ctx, ev); err != nil {
			b.Fatal(err)
		}
		spent[k] = append(spent[k], time.Since(start))
		i++
	}
	if len(spent[0]) > 0 && len(spent[1]) > 0 {
		// Medians: one fsync stalled by another process's I/O must not decide it.
		offNS, onNS := float64(medianDuration(spent[0])), float64(medianDuration(spent[1]))
		b.ReportMetric(offNS, "off-median-ns")
		b.ReportMetric(onNS, "on-median-ns")
		b.ReportMetric(onNS/offNS, "on/off")
	}
}

// medianDuration returns the median of ds, which it sorts.
func medianDuration(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func benchHandleDurable(b *testing.B, cfg *rules.Config, parallel bool) {
	e := openEngine(b, Options{Config: cfg, Store: sqliteDSN(b), NoDispatch: true})
	ctx := context.Background()
	b.ReportAllocs()
	if !parallel {
		ev := benchEvent()
		for b.Loop() {
			if _, err := e.Handle(ctx, ev); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	b.SetParallelism(16) // 16 × GOMAXPROCS concurrent save hooks
	b.ResetTimer()       // not the configuration's parsing nor the store's opening
	b.RunParallel(func(pb *testing.PB) {
		ev := benchEvent()
		for pb.Next() {
			if _, err := e.Handle(ctx, ev); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchDeliverConcurrency is how many save hooks call Handle at once in
// BenchmarkDeliver, and how many goroutines post in the raw ceiling run (the
// engine's default worker count).
const benchDeliverConcurrency = 32

// BenchmarkDeliver: end to end, Handle → SQLite outbox → dispatcher → loopback
// receiver, one delivery per op, reported as deliveries/s (target ≥ 5,000/s). In
// the same run, a plain net/http client posts the same bodies to the same receiver
// with the same concurrency; raw-deliveries/s is that ceiling and ratio the share of
// it the engine reaches.
func BenchmarkDeliver(b *testing.B) {
	var got atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got.Add(1)
		io.WriteString(w, "ok")
	}))
	defer recv.Close()
	cfg := parseConfig(b, recv.URL, oneCallout)
	reg := prometheus.NewRegistry()
	e := openEngine(b, Options{Config: cfg, Store: sqliteDSN(b), Registerer: reg})
	delivered := e.metrics.outcomes.WithLabelValues(string(store.KindCallout), "delivered")
	ctx := context.Background()

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	before := testutil.ToFloat64(delivered)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range benchDeliverConcurrency {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if _, err := e.Handle(ctx, completeEvent(int(i))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(benchDeadline)
	for testutil.ToFloat64(delivered)-before < float64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("%v of %d deliveries after %s", testutil.ToFloat64(delivered)-before, b.N, benchDeadline)
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	rate := float64(b.N) / elapsed.Seconds()

	// The ceiling: the same requests, posted by plain net/http.
	req, err := callouts.Render(cfg, cfg.Callouts[0], completeEvent(1))
	if err != nil {
		b.Fatal(err)
	}
	client := callouts.NewClient()
	n := max(b.N, 1000)
	rawStart := time.Now()
	next.Store(0)
	for range benchDeliverConcurrency {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				hreq, _ := http.NewRequest(req.Method, req.URL, bytes.NewReader(req.Body))
				hreq.Header.Set("Content-Type", req.Header["Content-Type"])
				hreq.Header.Set("Idempotency-Key", "raw")
				resp, err := client.Do(hreq)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	raw := float64(n) / time.Since(rawStart).Seconds()
	b.ReportMetric(rate, "deliveries/s")
	b.ReportMetric(raw, "raw-deliveries/s")
	b.ReportMetric(rate/raw, "ratio")
	b.ReportMetric(float64(e.disp.fastPath.Load())/float64(b.N), "fast-share")
}

// BenchmarkDrain isolates the dispatcher: b.N deliveries are stored first (not
// timed), then an engine drains the outbox to the loopback receiver: claim under
// lease, send, settle in batches. It reports deliveries/s.
func BenchmarkDrain(b *testing.B) {
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	}))
	defer recv.Close()
	cfg := parseConfig(b, recv.URL, oneCallout)
	dsn := sqliteDSN(b)
	filler := openEngine(b, Options{Config: cfg, Store: dsn, NoDispatch: true})
	var wg sync.WaitGroup
	var next atomic.Int64
	for range benchDeliverConcurrency {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				if _, err := filler.Handle(context.Background(), completeEvent(int(i))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	filler.Close()

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	e := openEngine(b, Options{Config: cfg, Store: dsn, Registerer: prometheus.NewRegistry()})
	delivered := e.metrics.outcomes.WithLabelValues(string(store.KindCallout), "delivered")
	deadline := time.Now().Add(benchDeadline)
	for testutil.ToFloat64(delivered) < float64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("%v of %d deliveries after %s", testutil.ToFloat64(delivered), b.N, benchDeadline)
		}
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}

// benchDeadline bounds every poll loop of the benchmarks: a stuck dispatcher fails
// the benchmark instead of hanging it.
const benchDeadline = 5 * time.Minute
