package engine

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ruleflow/ruleflow/engine/store"
)

// BenchmarkDrainLimits is BenchmarkDrain (SQLite) with the circuit breaker off,
// with it on (the default: every outcome carries a breaker report that Settle
// applies), and with it on plus a rate limit high enough never to hold anything
// back (every attempt takes a permit), so the cost of each shows as a ratio of
// deliveries/s in one run.
func BenchmarkDrainLimits(b *testing.B) {
	for _, bc := range []struct{ name, extra string }{
		{"breaker-off", "breaker: {failures: 0}\n"},
		{"breaker-on", ""},
		{"breaker-rate", ""},
	} {
		b.Run(bc.name, func(b *testing.B) {
			body := bc.extra + oneCallout
			if bc.name == "breaker-rate" {
				body = bc.extra + `
callouts:
  - name: RMM
    url: {{URL}}/hook
    format: name-value
    retry: {interval: 1s, max: 2}
    rate: 1000000/s
rules:
  - name: Close alert
    form: Ticket
    events: [update]
    condition: "'Status' = \"Complete\" AND 'TR.Status' != $NULL$"
    callouts: [RMM]
`
			}
			drainWith(b, body)
		})
	}
}

func drainWith(b *testing.B, body string) {
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	}))
	defer recv.Close()
	cfg := parseConfig(b, recv.URL, body)
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
