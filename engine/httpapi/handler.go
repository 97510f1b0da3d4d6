package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/engine/store"
)

// Limits of the API.
const (
	// MaxEventBody is the largest body POST /v1/events accepts.
	MaxEventBody = 1 << 20
	// MaxHookBody is the largest body POST /hooks/{token} and POST /callbacks/{api_name} accept.
	MaxHookBody = 100 << 10
	// MaxAdminBody is the largest body of the other admin endpoints.
	MaxAdminBody = 256 << 10
	// DefaultHookRate is how many external events per minute one target accepts.
	DefaultHookRate = 250
	// DefaultExecTimeout bounds the handling of one inbound event.
	DefaultExecTimeout = 20 * time.Second
)

// Options configure a Handler. Engine is required.
type Options struct {
	// Engine handles the events and owns the store.
	Engine *engine.Engine
	// AdminToken guards the admin endpoints. Empty refuses every admin call with 403,
	// unless InsecureNoAuth is set.
	AdminToken string
	// InsecureNoAuth opens the admin endpoints to anyone when AdminToken is empty.
	// Only for a server bound to a loopback address during development.
	InsecureNoAuth bool
	// Logger receives the access log and errors; nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the inbound-call metrics and the engine's queue collector;
	// Gatherer is what GET /metrics serves (without one there is no /metrics route).
	// When both are nil a private registry is used for both. Pass the registry given
	// to engine.Open to expose the engine's own metrics on the same endpoint.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// HookRate is how many calls per minute one target URL accepts; 0 means 250.
	HookRate int
	// ExecTimeout bounds the handling of one inbound event (callback, external
	// event, POST /v1/events); 0 means 20 s.
	ExecTimeout time.Duration
	// Now is the clock (rate limits, timestamps, retries); nil means time.Now.
	Now func() time.Time
}

// Handler serves the HTTP API. Create it with New; it is safe for concurrent use.
type Handler struct {
	eng     Backend
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	mux     *http.ServeMux
	limiter *rateLimiter
	metrics *inboundMetrics
	root    http.Handler
}

// New builds the handler and registers its metrics (inbound calls by endpoint and
// status, and the engine's queue collector) on opts.Registerer.
func New(opts Options) (*Handler, error) {
	if opts.Engine == nil {
		return nil, errors.New("httpapi: no engine")
	}
	h := &Handler{eng: engineBackend{opts.Engine}, opts: opts, log: opts.Logger, now: opts.Now}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.opts.HookRate <= 0 {
		h.opts.HookRate = DefaultHookRate
	}
	if h.opts.ExecTimeout <= 0 {
		h.opts.ExecTimeout = DefaultExecTimeout
	}
	if h.opts.Registerer == nil && h.opts.Gatherer == nil {
		reg := prometheus.NewRegistry()
		h.opts.Registerer, h.opts.Gatherer = reg, reg
	}
	m, err := newInboundMetrics(h.opts.Registerer)
	if err != nil {
		return nil, err
	}
	if h.opts.Registerer != nil {
		if err := h.opts.Registerer.Register(h.eng.NewQueueCollector()); err != nil {
			return nil, fmt.Errorf("httpapi: register queue collector: %w", err)
		}
	}
	h.metrics = m
	h.limiter = newRateLimiter(h.opts.HookRate, time.Minute)
	h.mux = http.NewServeMux()
	h.routes()
	h.root = h.withRequestID(h.accessLog(h.recoverPanics(h.mux)))
	return h, nil
}

// ServeHTTP serves one API request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.root.ServeHTTP(w, r) }

// routes registers every endpoint. For each path a method-less pattern answers the
// methods it does not serve with a JSON 405 and an Allow header.
func (h *Handler) routes() {
	allowed := map[string][]string{}
	handle := func(method, path string, fn http.HandlerFunc) {
		h.mux.Handle(method+" "+path, fn)
		allowed[path] = append(allowed[path], method)
	}
	admin := func(method, path string, fn http.HandlerFunc) { handle(method, path, h.requireAdmin(fn)) }

	admin("POST", "/v1/events", h.postEvents)

	handle("POST", "/api/jwt/login", h.jwtLogin)
	admin("POST", "/api/arsys/v1.0/webhook", h.createWebhook)
	admin("GET", "/api/arsys/v1.0/webhook", h.listWebhooks)
	admin("GET", "/api/arsys/v1.0/webhook/{id}", h.getWebhook)
	admin("PUT", "/api/arsys/v1.0/webhook/{id}", h.updateWebhook)
	admin("DELETE", "/api/arsys/v1.0/webhook/{id}", h.deleteWebhook)
	// The AR document writes the webhook URL with a trailing slash (…/webhook/ID/).
	admin("GET", "/api/arsys/v1.0/webhook/{id}/{$}", h.getWebhook)
	admin("PUT", "/api/arsys/v1.0/webhook/{id}/{$}", h.updateWebhook)
	admin("DELETE", "/api/arsys/v1.0/webhook/{id}/{$}", h.deleteWebhook)

	admin("GET", "/v1/callback-functions", h.listCallbackFunctions)
	admin("POST", "/v1/callback-functions", h.createCallbackFunction)
	admin("GET", "/v1/callback-functions/{api_name}", h.getCallbackFunction)
	admin("PUT", "/v1/callback-functions/{api_name}", h.updateCallbackFunction)
	admin("DELETE", "/v1/callback-functions/{api_name}", h.deleteCallbackFunction)
	admin("POST", "/v1/callback-functions/{api_name}", h.bulkCallbacks) // …/publish and …/unpublish
	admin("POST", "/v1/callback-functions/{api_name}/publish", h.publishCallback)
	admin("POST", "/v1/callback-functions/{api_name}/unpublish", h.unpublishCallback)
	handle("POST", "/callbacks/{api_name}", h.invokeCallback)

	admin("POST", "/v1/targets", h.createTarget)
	admin("GET", "/v1/targets", h.listTargets)
	admin("GET", "/v1/targets/{id}", h.getTarget)
	admin("DELETE", "/v1/targets/{id}", h.revokeTarget)
	handle("POST", "/hooks/{token}", h.postHook)

	admin("GET", "/v1/deliveries", h.listDeliveries)
	admin("GET", "/v1/deliveries/{id}", h.getDelivery)
	admin("POST", "/v1/deliveries/{id}/retry", h.retryDelivery)
	h.managementRoutes(admin)
	h.uiRoutes(handle)
	admin("GET", "/v1/timers", h.listTimers)
	admin("GET", "/v1/history", h.listHistory)

	handle("GET", "/healthz", h.healthz)
	if h.opts.Gatherer != nil {
		handle("GET", "/metrics", promhttp.HandlerFor(h.opts.Gatherer, promhttp.HandlerOpts{}).ServeHTTP)
	}

	for path, methods := range allowed {
		if slices.Contains(methods, "GET") {
			methods = append(methods, "HEAD")
		}
		slices.Sort(methods)
		allow := strings.Join(methods, ", ")
		h.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, routePath(r), allow))
		})
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s", r.Method, routePath(r)))
	})
}

// routePath is the request path safe to show: a /hooks token is masked.
func routePath(r *http.Request) string {
	p := r.URL.Path
	if rest, ok := strings.CutPrefix(p, "/hooks/"); ok && rest != "" {
		return "/hooks/" + maskedToken
	}
	return p
}

const maskedToken = "********"

// errorBody is every error response. RequestID is set on a 500 only.
type errorBody struct {
	Error     string `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

// internalErrorText is the whole error text of a 500 answer.
const internalErrorText = "internal error"

// writeJSON writes v as the JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Error: internalErrorText, RequestID: w.Header().Get(RequestIDHeader)})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// writeError writes {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// internalError logs err with the request's ID and answers 500 with
// {"error":"internal error","request_id":ID}: the text of an internal error (a store
// or driver message, a path, a query) is never sent to the client.
func (h *Handler) internalError(w http.ResponseWriter, r *http.Request, err error) {
	id := requestID(r)
	h.log.Error("httpapi: request failed", "method", r.Method, "path", routePath(r), "request_id", id, "error", err)
	writeJSON(w, http.StatusInternalServerError, errorBody{Error: internalErrorText, RequestID: id})
}

// requireStore returns the engine's records, or answers 503 with msg and returns nil
// when the engine runs without a store.
func (h *Handler) requireStore(w http.ResponseWriter, msg string) Records {
	st := h.eng.Records()
	if st == nil {
		writeError(w, http.StatusServiceUnavailable, msg)
	}
	return st
}

// storeFailed answers a non-nil store error, 404 with notFound for ErrNotFound and
// 500 for any other, and reports whether err was non-nil.
func (h *Handler) storeFailed(w http.ResponseWriter, r *http.Request, err error, notFound string) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, notFound)
	default:
		h.internalError(w, r, err)
	}
	return true
}

// readBody reads at most limit bytes of the request body. A larger body answers
// 413 and returns false.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", limit))
		} else {
			writeError(w, http.StatusBadRequest, "reading request body: "+err.Error())
		}
		return nil, false
	}
	return b, true
}

// mediaType is the request's Content-Type without parameters, lower-cased.
func mediaType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}
