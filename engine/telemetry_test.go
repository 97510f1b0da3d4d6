package engine

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// traceparentRE is a valid W3C traceparent: version 00, trace ID, parent ID, flags.
var traceparentRE = regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-0[0-3]$`)

func newTracer() (*tracetest.InMemoryExporter, *sdktrace.TracerProvider) {
	exp := tracetest.NewInMemoryExporter()
	return exp, sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
}

// spansNamed returns the ended spans called name.
func spansNamed(exp *tracetest.InMemoryExporter, name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func attr(s tracetest.SpanStub, key string) attribute.Value {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

// TestTracing: a span per Handle with the form, kind and rules fired; a span per
// delivery attempt, child of it, whose traceparent the receiver gets; a span per
// notification e-mail in the same trace.
func TestTracing(t *testing.T) {
	exp, tp := newTracer()
	var mu sync.Mutex
	var headers []string
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		headers = append(headers, r.Header.Get("Traceparent"))
		mu.Unlock()
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	})
	body := strings.Replace(oneCallout, "retry: {interval: 1s, max: 2}", "retry: {interval: 1s, max: 2}\n    notify: {to: [ops@example.com]}", 1)
	cfg := parseConfig(t, rc.URL, testSMTPBlock+body)
	mailer := &mailerFunc{}
	e := openEngine(t, Options{Config: cfg, Store: sqliteDSN(t), TracerProvider: tp, Mailer: mailer})
	res, err := e.Handle(context.Background(), completeEvent(21))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the e-mail span", func() bool { return len(spansNamed(exp, "ruleflow.email")) == 1 })

	handles := spansNamed(exp, "ruleflow.handle")
	if len(handles) != 1 {
		t.Fatalf("%d handle spans, want 1", len(handles))
	}
	h := handles[0]
	for key, want := range map[string]string{"ruleflow.form": "Ticket", "ruleflow.event": "update", "ruleflow.entry_id": "21"} {
		if got := attr(h, key).AsString(); got != want {
			t.Errorf("handle span %s = %q, want %q", key, got, want)
		}
	}
	if got := attr(h, "ruleflow.rules").AsStringSlice(); len(got) != 1 || got[0] != "Close alert" || attr(h, "ruleflow.rules_fired").AsInt64() != 1 {
		t.Errorf("handle span rules = %q (%d)", got, attr(h, "ruleflow.rules_fired").AsInt64())
	}
	traceID := h.SpanContext.TraceID()

	delivers := spansNamed(exp, "ruleflow.deliver")
	if len(delivers) != 2 {
		t.Fatalf("%d deliver spans, want 2 (a 503, then a 200)", len(delivers))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(headers) != 2 {
		t.Fatalf("receiver got %d requests", len(headers))
	}
	for i, d := range delivers {
		if d.SpanContext.TraceID() != traceID || d.Parent.SpanID() != h.SpanContext.SpanID() {
			t.Errorf("attempt %d: trace %s parent %s, want trace %s parent %s", i+1, d.SpanContext.TraceID(), d.Parent.SpanID(), traceID, h.SpanContext.SpanID())
		}
		if n := attr(d, "ruleflow.attempt").AsInt64(); n != int64(i+1) {
			t.Errorf("attempt span %d: attempt = %d", i, n)
		}
		if got := attr(d, "ruleflow.callout").AsString(); got != "RMM" {
			t.Errorf("attempt span callout = %q", got)
		}
		if got := attr(d, "ruleflow.delivery_id").AsString(); got != res.Fired[0].DeliveryID {
			t.Errorf("attempt span delivery = %q, want %q", got, res.Fired[0].DeliveryID)
		}
		m := traceparentRE.FindStringSubmatch(headers[i])
		if m == nil {
			t.Fatalf("request %d: traceparent %q is not a valid W3C traceparent", i+1, headers[i])
		}
		if m[1] != traceID.String() || m[2] != d.SpanContext.SpanID().String() {
			t.Errorf("request %d: traceparent %q, want trace %s span %s (the attempt's)", i+1, headers[i], traceID, d.SpanContext.SpanID())
		}
	}
	if c := attr(delivers[0], "ruleflow.status_code").AsInt64(); c != 503 || attr(delivers[0], "ruleflow.outcome").AsString() != "pending" {
		t.Errorf("first attempt: status %d outcome %q", c, attr(delivers[0], "ruleflow.outcome").AsString())
	}
	if c := attr(delivers[1], "ruleflow.status_code").AsInt64(); c != 200 || attr(delivers[1], "ruleflow.outcome").AsString() != "delivered" {
		t.Errorf("second attempt: status %d outcome %q", c, attr(delivers[1], "ruleflow.outcome").AsString())
	}
	mail := spansNamed(exp, "ruleflow.email")[0]
	if mail.SpanContext.TraceID() != traceID || mail.Parent.SpanID() != delivers[1].SpanContext.SpanID() {
		t.Errorf("e-mail span: trace %s parent %s, want the last attempt's", mail.SpanContext.TraceID(), mail.Parent.SpanID())
	}
}

// TestTracingAcrossRestart: the traceparent is stored with the job, so an attempt
// made by another engine (after a restart) is still a child of the event's span.
func TestTracingAcrossRestart(t *testing.T) {
	var mu sync.Mutex
	var header string
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		header = r.Header.Get("Traceparent")
		mu.Unlock()
		io.WriteString(w, "ok")
	})
	dsn := sqliteDSN(t)
	cfg := parseConfig(t, rc.URL, oneCallout)
	exp1, tp1 := newTracer()
	e1 := openEngine(t, Options{Config: cfg, Store: dsn, TracerProvider: tp1, NoDispatch: true})
	res, err := e1.Handle(context.Background(), completeEvent(22))
	if err != nil {
		t.Fatal(err)
	}
	e1.Close()
	handle := spansNamed(exp1, "ruleflow.handle")[0]

	exp2, tp2 := newTracer()
	e2 := openEngine(t, Options{Config: cfg, Store: dsn, TracerProvider: tp2})
	waitSettled(t, e2.Store(), res.Fired[0].DeliveryID, 10*time.Second)
	waitFor(t, 5*time.Second, "the attempt span", func() bool { return len(spansNamed(exp2, "ruleflow.deliver")) == 1 })
	d := spansNamed(exp2, "ruleflow.deliver")[0]
	if d.Parent.TraceID() != handle.SpanContext.TraceID() || d.Parent.SpanID() != handle.SpanContext.SpanID() || !d.Parent.IsRemote() {
		t.Errorf("attempt after restart: parent %s/%s remote %v, want the handle span %s/%s", d.Parent.TraceID(), d.Parent.SpanID(), d.Parent.IsRemote(),
			handle.SpanContext.TraceID(), handle.SpanContext.SpanID())
	}
	mu.Lock()
	defer mu.Unlock()
	if m := traceparentRE.FindStringSubmatch(header); m == nil || m[1] != handle.SpanContext.TraceID().String() {
		t.Errorf("traceparent %q, want one in trace %s", header, handle.SpanContext.TraceID())
	}
}

// TestTracingOff: without a provider or a telemetry block nothing is traced and
// receivers get no traceparent.
func TestTracingOff(t *testing.T) {
	rc := newReceiver(t, nil)
	e := openEngine(t, Options{Config: parseConfig(t, rc.URL, oneCallout), Store: sqliteDSN(t)})
	if e.tr != nil {
		t.Fatal("tracing on without a provider or a telemetry block")
	}
	id := handleOne(t, e, completeEvent(23))
	waitSettled(t, e.Store(), id, 10*time.Second)
	if h := rc.requests()[0].Header.Get("Traceparent"); h != "" {
		t.Errorf("traceparent %q sent with tracing off", h)
	}
}

// TestTracingOTLPEndpoint: telemetry.otlp_endpoint exports the spans over
// OTLP/HTTP to a collector (here an httptest server), flushed at Shutdown.
func TestTracingOTLPEndpoint(t *testing.T) {
	var mu sync.Mutex
	var got []string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type"))
		mu.Unlock()
		if len(b) == 0 {
			t.Error("empty export")
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	cfg := parseConfig(t, "http://127.0.0.1:9", oneCallout+"telemetry: {otlp_endpoint: \""+collector.URL+"\", service_name: desk}\n")
	e := openEngine(t, Options{Config: cfg, Store: sqliteDSN(t), NoDispatch: true})
	if e.tr == nil || e.tr.shutdown == nil {
		t.Fatal("no exporter made for the telemetry block")
	}
	handleOne(t, e, completeEvent(24))
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 || got[0] != "POST /v1/traces application/x-protobuf" {
		t.Errorf("collector got %q, want a POST /v1/traces of protobuf", got)
	}
}

func TestOTLPTracesURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:4318":            "http://127.0.0.1:4318/v1/traces",
		"http://127.0.0.1:4318/":           "http://127.0.0.1:4318/v1/traces",
		"https://otel.example/custom/path": "https://otel.example/custom/path",
	} {
		if got, err := otlpTracesURL(in); err != nil || got != want {
			t.Errorf("otlpTracesURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := otlpTracesURL("grpc://127.0.0.1:4317"); err == nil {
		t.Error("grpc scheme accepted")
	}
}

func TestWithTraceParent(t *testing.T) {
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	for in, want := range map[string]string{
		`{}`:             `{"traceparent":"` + tp + `"}`,
		`{"a":1}`:        `{"traceparent":"` + tp + `","a":1}`,
		`not json`:       `not json`,
		``:               ``,
		`{"request":{}}`: `{"traceparent":"` + tp + `","request":{}}`,
	} {
		if got := string(withTraceParent([]byte(in), tp)); got != want {
			t.Errorf("withTraceParent(%s) = %s, want %s", in, got, want)
		}
	}
}

// BenchmarkHandleTracing is BenchmarkHandle/fire5 (no store) with tracing off,
// with an embedder's no-op provider, and with the SDK recording every span (to an
// exporter that drops them): the cost of tracing, and that off costs nothing.
func BenchmarkHandleTracing(b *testing.B) {
	for _, bc := range []struct {
		name string
		tp   trace.TracerProvider
	}{
		{"off", nil},
		{"noop", noop.NewTracerProvider()},
		{"sdk", sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewNoopExporter()))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := openEngine(b, Options{Config: benchConfig(b, "http://127.0.0.1:9"), TracerProvider: bc.tp})
			ev := benchEvent()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Handle(ctx, ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
