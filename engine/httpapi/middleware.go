package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// statusRecorder remembers the status code written through it.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

// WriteHeader records the first status written and passes it on.
func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Write counts the bytes written; a write before WriteHeader means 200.
func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// accessLog logs every request after it is served and counts it by endpoint and
// status. It records the path (a /hooks token masked), never the query string (it
// may hold an auth_token) nor any header.
func (h *Handler) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		d := time.Since(start)
		endpoint := r.Pattern // set by the ServeMux on r itself
		if endpoint == "" {
			endpoint = "unmatched"
		}
		h.metrics.observe(endpoint, rec.status, d)
		h.log.LogAttrs(r.Context(), levelFor(rec.status), "http request",
			slog.String("method", r.Method),
			slog.String("path", routePath(r)),
			slog.Int("status", rec.status),
			slog.Duration("duration", d),
			slog.Int("bytes", rec.bytes),
			slog.String("remote", r.RemoteAddr),
			slog.String("request_id", requestID(r)),
		)
	})
}

// recoverPanics turns a panic in a handler into a 500 instead of a dropped
// connection, and logs it.
func (h *Handler) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				id := requestID(r)
				h.log.Error("httpapi: handler panic", "method", r.Method, "path", routePath(r), "request_id", id, "panic", fmt.Sprint(v))
				writeJSON(w, http.StatusInternalServerError, errorBody{Error: internalErrorText, RequestID: id})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// requireAdmin admits requests that carry the admin token as
// "Authorization: Bearer <token>" or "Authorization: AR-JWT <token>". A missing
// header answers 401 (with WWW-Authenticate), a wrong token 403.
func (h *Handler) requireAdmin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.opts.AdminToken == "" {
			if h.opts.InsecureNoAuth {
				next(w, r)
				return
			}
			writeError(w, http.StatusForbidden, "admin API disabled: no admin token configured (set RULEFLOW_ADMIN_TOKEN)")
			return
		}
		auth := r.Header.Get("Authorization")
		if auth == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ruleflow"`)
			if strings.HasPrefix(r.URL.Path, "/api/arsys/") {
				// The AR System REST API answers 403 to a request without a token.
				writeError(w, http.StatusForbidden, "missing Authorization header (want AR-JWT <token> or Bearer <token>)")
				return
			}
			writeError(w, http.StatusUnauthorized, "missing Authorization header (want Bearer <token> or AR-JWT <token>)")
			return
		}
		scheme, token, _ := strings.Cut(strings.TrimSpace(auth), " ")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "AR-JWT") {
			writeError(w, http.StatusForbidden, "unsupported authorization scheme (want Bearer or AR-JWT)")
			return
		}
		if !adminMatches(token, h.opts.AdminToken) {
			writeError(w, http.StatusForbidden, "invalid admin token")
			return
		}
		next(w, r)
	}
}

// inboundMetrics counts the API's calls. A nil *inboundMetrics records nothing.
type inboundMetrics struct {
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newInboundMetrics(reg prometheus.Registerer) (*inboundMetrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &inboundMetrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ruleflow", Name: "inbound_requests_total",
			Help: "HTTP API calls, by endpoint (route pattern) and status code.",
		}, []string{"endpoint", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "ruleflow", Name: "inbound_request_duration_seconds",
			Help:    "Duration of HTTP API calls, by endpoint.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"endpoint"}),
	}
	for _, c := range []prometheus.Collector{m.calls, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("httpapi: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *inboundMetrics) observe(endpoint string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.calls.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(endpoint).Observe(d.Seconds())
}

// levelFor logs server errors as errors and everything else as info.
func levelFor(status int) slog.Level {
	if status >= http.StatusInternalServerError {
		return slog.LevelError
	}
	return slog.LevelInfo
}

// adminMatches compares a presented token with the admin token in constant time
// (hashing first, so that not even the length leaks).
func adminMatches(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
