package engine

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// This file holds the OpenTelemetry tracing, off unless Options.TracerProvider is
// set or the configuration has `telemetry: {otlp_endpoint: …}`:
//
//   - ruleflow.handle, a span per event handled (form, event kind, entry ID, the
//     rules that fired, the callouts fired, rejected);
//   - ruleflow.deliver, a client span per delivery attempt (callout, delivery ID,
//     attempt number, HTTP status, outcome), whose W3C traceparent header is sent
//     to the receiver;
//   - ruleflow.email, a span per notification e-mail attempt.
//
// The traceparent of the handle span is stored with each job it enqueues (in the
// job's payload), so an attempt made after a restart, or by another node, is still
// a child of the event's span. When tracing is off Handle does not touch any of it.

// instrumentationName names the tracer.
const instrumentationName = "github.com/ruleflow/ruleflow/engine"

// tracing is the engine's tracer, nil when tracing is off.
type tracing struct {
	tracer   trace.Tracer
	prop     propagation.TraceContext
	shutdown func(context.Context) error // of a provider the engine made itself; nil otherwise
}

// newTracing returns the tracing for opts, or nil when it is off: a provider the
// embedder gave, else an OTLP/HTTP exporter for the configuration's telemetry
// endpoint, else none.
func newTracing(ctx context.Context, tp trace.TracerProvider, t *rules.Telemetry) (*tracing, error) {
	if tp != nil {
		return &tracing{tracer: tp.Tracer(instrumentationName, trace.WithInstrumentationVersion(Version()))}, nil
	}
	if t == nil || t.OTLPEndpoint == "" {
		return nil, nil
	}
	endpoint, err := otlpTracesURL(t.OTLPEndpoint)
	if err != nil {
		return nil, err
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, fmt.Errorf("engine: telemetry: %w", err)
	}
	name := t.ServiceName
	if name == "" {
		name = "ruleflow"
	}
	res := resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(name), semconv.ServiceVersion(Version()))
	sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return &tracing{tracer: sdk.Tracer(instrumentationName, trace.WithInstrumentationVersion(Version())), shutdown: sdk.Shutdown}, nil
}

// otlpTracesURL is the traces URL of an otlp_endpoint: a base URL gets /v1/traces.
func otlpTracesURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("engine: telemetry: otlp_endpoint %q is not an http or https URL", rules.MaskURLsIn(raw))
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	return u.String(), nil
}

// traceParent returns the W3C traceparent of the span in ctx, "" when there is
// no valid one.
func (t *tracing) traceParent(ctx context.Context) string {
	c := propagation.MapCarrier{}
	t.prop.Inject(ctx, c)
	return c["traceparent"]
}

// withRemoteParent returns ctx carrying the span context of a stored traceparent
// as the remote parent of the spans started from it.
func (t *tracing) withRemoteParent(ctx context.Context, traceparent string) context.Context {
	if traceparent == "" {
		return ctx
	}
	return t.prop.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent})
}

// tracedTransport sends each request with the traceparent of the span in its
// context (the delivery attempt's), so receivers can join the trace.
type tracedTransport struct {
	next http.RoundTripper
	tr   *tracing
}

func (t tracedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if tp := t.tr.traceParent(r.Context()); tp != "" {
		r = r.Clone(r.Context()) // a RoundTripper must not change the caller's request
		r.Header.Set("Traceparent", tp)
	}
	return t.next.RoundTrip(r)
}

// tracedClient returns a copy of c whose requests carry the traceparent header.
func (t *tracing) tracedClient(c *http.Client) *http.Client {
	cp := *c
	next := cp.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	cp.Transport = tracedTransport{next: next, tr: t}
	return &cp
}

// handleBatchTraced is HandleBatch with a ruleflow.handle span per event; the
// traceparent of each is stored with the jobs its event enqueues.
func (e *Engine) handleBatchTraced(ctx context.Context, evs []*rules.Event) ([]*Result, error) {
	spans := make([]trace.Span, len(evs))
	parents := make([]string, len(evs))
	for i, ev := range evs {
		var attrs []attribute.KeyValue
		if ev != nil {
			attrs = []attribute.KeyValue{
				attribute.String("ruleflow.form", ev.Form),
				attribute.String("ruleflow.event", string(ev.Kind)),
				attribute.String("ruleflow.entry_id", ev.EntryID),
			}
		}
		sctx, span := e.tr.tracer.Start(ctx, "ruleflow.handle", trace.WithAttributes(attrs...))
		spans[i], parents[i] = span, e.tr.traceParent(sctx)
	}
	results, err := e.handleBatch(ctx, evs, parents)
	for i, span := range spans {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		} else if res := results[i]; res != nil {
			fired := make([]string, 0, len(res.Matches))
			for _, m := range res.Matches {
				fired = append(fired, m.Rule.Name)
			}
			span.SetAttributes(
				attribute.Int("ruleflow.rules_fired", len(fired)),
				attribute.StringSlice("ruleflow.rules", fired),
				attribute.Int("ruleflow.callouts_fired", len(res.Fired)),
				attribute.Bool("ruleflow.rejected", res.Rejected != nil),
			)
			if res.RuleErrors != nil {
				span.SetAttributes(attribute.String("ruleflow.rule_errors", res.RuleErrors.Error()))
			}
		}
		span.End()
	}
	return results, err
}

// stampTraceParent stores traceparent in the JSON payload of each job (as the
// "traceparent" member of DeliveryPayload and emailPayload).
//
// dps, when not nil, holds beside each job its callout payload as rendered (nil
// for the other jobs): such a payload gets the traceparent and is encoded again
// (the binary record of payload.go), the others are JSON.
func stampTraceParent(jobs []store.Job, dps []*DeliveryPayload, traceparent string) {
	if traceparent == "" {
		return
	}
	for i := range jobs {
		if i < len(dps) && dps[i] != nil {
			dps[i].TraceParent = traceparent
			if b, err := EncodeDeliveryPayload(dps[i]); err == nil {
				jobs[i].Payload = b
			}
			continue
		}
		jobs[i].Payload = withTraceParent(jobs[i].Payload, traceparent)
	}
}

// withTraceParent adds a "traceparent" member to a JSON object. The value is
// hex and dashes only (W3C trace context), so it needs no escaping.
func withTraceParent(payload []byte, traceparent string) []byte {
	if len(payload) < 2 || payload[0] != '{' || strings.ContainsAny(traceparent, `"\`) {
		return payload
	}
	out := make([]byte, 0, len(payload)+len(traceparent)+18)
	out = append(out, `{"traceparent":"`...)
	out = append(out, traceparent...)
	out = append(out, '"')
	if payload[1] != '}' {
		out = append(out, ',')
	}
	return append(out, payload[1:]...)
}

// startAttempt starts the span of one delivery attempt (ruleflow.deliver, or
// ruleflow.email), a child of the event's span stored with the job. With tracing
// off it returns ctx and a nil end.
func (e *Engine) startAttempt(ctx context.Context, name, traceparent string, job store.Job) (context.Context, trace.Span) {
	if e.tr == nil {
		return ctx, nil
	}
	kind := trace.SpanKindClient
	ctx, span := e.tr.tracer.Start(e.tr.withRemoteParent(ctx, traceparent), name, trace.WithSpanKind(kind), trace.WithAttributes(
		attribute.String("ruleflow.delivery_id", job.ID),
		attribute.String("ruleflow.callout", job.Callout),
		attribute.String("ruleflow.rule", job.Rule),
		attribute.Int("ruleflow.attempt", job.Attempts+1),
	))
	return ctx, span
}

// endAttempt records an attempt's outcome on its span and ends it.
func endAttempt(span trace.Span, out store.Outcome) {
	if span == nil {
		return
	}
	span.SetAttributes(attribute.String("ruleflow.outcome", string(out.Status)))
	if c := out.Attempt.StatusCode; c != 0 {
		span.SetAttributes(attribute.Int("ruleflow.status_code", c))
	}
	if out.Attempt.Error != "" {
		span.SetStatus(codes.Error, rules.MaskURLsIn(out.Attempt.Error))
	}
	span.End()
}

// warnTelemetryReload logs that a changed telemetry block takes effect only when
// the engine is opened again: the exporter is made once, at Open.
func (e *Engine) warnTelemetryReload(old, cfg *rules.Config) {
	endpoint := func(c *rules.Config) rules.Telemetry {
		if c == nil || c.Telemetry == nil {
			return rules.Telemetry{}
		}
		return *c.Telemetry
	}
	if endpoint(old) != endpoint(cfg) {
		e.log.Warn("engine: the telemetry block changed; it takes effect at the next start", "otlp_endpoint", rules.MaskURLsIn(endpoint(cfg).OTLPEndpoint))
	}
}
