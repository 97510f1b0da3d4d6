package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// The management API: callouts and rules with their active flags, callout tests,
// and bulk re-drive of deliveries. Every route is behind the admin token.
func (h *Handler) managementRoutes(admin func(method, path string, fn http.HandlerFunc)) {
	admin("GET", "/v1/callouts", h.listCallouts)
	admin("POST", "/v1/callouts/{name}/activate", h.setCalloutActive(true))
	admin("POST", "/v1/callouts/{name}/deactivate", h.setCalloutActive(false))
	admin("POST", "/v1/callouts/{name}/test", h.testCallout)
	admin("GET", "/v1/rules", h.listRules)
	admin("POST", "/v1/rules/{name}/activate", h.setRuleActive(true))
	admin("POST", "/v1/rules/{name}/deactivate", h.setRuleActive(false))
	// Registered without the method-less 405 pattern, which would conflict with
	// GET /v1/deliveries/{id}: a GET of this path is a lookup of delivery "retry".
	h.mux.Handle("POST /v1/deliveries/retry", h.requireAdmin(h.retryDeliveries))
}

// lastDeliveryJSON is the newest delivery of a callout.
type lastDeliveryJSON struct {
	ID     string    `json:"id"`
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// countsJSON counts a callout's deliveries by status.
type countsJSON struct {
	Pending   int64 `json:"pending"`
	Delivered int64 `json:"delivered"`
	Failed    int64 `json:"failed"`
}

// calloutJSON is a callout as GET /v1/callouts lists it. Breaker is the state of
// the circuit breaker of its endpoint, null while that endpoint has recorded no
// failure.
type calloutJSON struct {
	Name         string            `json:"name"`
	Format       string            `json:"format"`
	Method       string            `json:"method"`
	URL          string            `json:"url"`
	Active       bool              `json:"active"`
	ActiveSource string            `json:"active_source"`
	Rules        []string          `json:"rules"`
	Breaker      *breakerJSON      `json:"breaker"`
	LastDelivery *lastDeliveryJSON `json:"last_delivery"`
	Counts       countsJSON        `json:"counts"`
}

func calloutOf(c engine.CalloutInfo) calloutJSON {
	out := calloutJSON{
		Name: c.Name, Format: string(c.Format), Method: c.Method, URL: rules.MaskURL(c.URL),
		Active: c.Active, ActiveSource: c.ActiveSource, Rules: c.Rules,
		Counts: countsJSON{Pending: c.Stats.Pending, Delivered: c.Stats.Delivered, Failed: c.Stats.Failed},
	}
	if b := c.Breaker; b != nil {
		j := breakerJSON{Endpoint: b.Endpoint, State: b.State, Failures: b.Failures, OpenedAt: timePtr(b.OpenedAt),
			OpenUntil: timePtr(b.OpenUntil), Callouts: b.Callouts}
		if b.Cooldown > 0 {
			j.Cooldown = b.Cooldown.String()
		}
		out.Breaker = &j
	}
	if l := c.Stats.Last; l.ID != "" {
		at := l.UpdatedAt
		if at.IsZero() {
			at = l.CreatedAt
		}
		out.LastDelivery = &lastDeliveryJSON{ID: l.ID, Status: string(l.Status), At: at}
	}
	return out
}

// ruleJSON is a rule as GET /v1/rules lists it.
type ruleJSON struct {
	Name         string       `json:"name"`
	Form         string       `json:"form"`
	Events       []rules.Kind `json:"events"`
	Active       bool         `json:"active"`
	ActiveSource string       `json:"active_source"`
	LastFired    *time.Time   `json:"last_fired"`
	FireCount    int64        `json:"fire_count"`
}

func ruleOf(r engine.RuleInfo) ruleJSON {
	return ruleJSON{Name: r.Name, Form: r.Form, Events: r.Events, Active: r.Active, ActiveSource: r.ActiveSource,
		LastFired: timePtr(r.LastFired), FireCount: r.FireCount}
}

// namePage reads limit (1 to 1000, default 100) and after (a name) and returns the
// page of items (sorted by name) after the cursor, and the next cursor.
func namePage[T any](q map[string][]string, items []T, name func(T) string) ([]T, string, error) {
	for k := range q {
		if k != "limit" && k != "after" {
			return nil, "", fmt.Errorf("unknown query parameter %q (want limit or after)", k)
		}
	}
	limit := 100
	if v := q["limit"]; len(v) > 0 {
		n, err := strconv.Atoi(v[len(v)-1])
		if err != nil || n < 1 || n > 1000 {
			return nil, "", fmt.Errorf("limit %q: want an integer from 1 to 1000", v[len(v)-1])
		}
		limit = n
	}
	slices.SortStableFunc(items, func(a, b T) int { return strings.Compare(name(a), name(b)) })
	if v := q["after"]; len(v) > 0 && v[len(v)-1] != "" {
		after := v[len(v)-1]
		i, _ := slices.BinarySearchFunc(items, after, func(it T, s string) int {
			if name(it) <= s {
				return -1
			}
			return 1
		})
		items = items[i:]
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		next = name(items[limit-1])
	}
	return items, next, nil
}

func (h *Handler) listCallouts(w http.ResponseWriter, r *http.Request) {
	list, err := h.eng.Callouts(r.Context())
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	items, next, err := namePage(r.URL.Query(), list, func(c engine.CalloutInfo) string { return c.Name })
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out := struct {
		Callouts []calloutJSON `json:"callouts"`
		Next     string        `json:"next,omitempty"`
	}{Callouts: make([]calloutJSON, 0, len(items)), Next: next}
	for _, c := range items {
		out.Callouts = append(out.Callouts, calloutOf(c))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) listRules(w http.ResponseWriter, r *http.Request) {
	list, err := h.eng.Rules(r.Context())
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	items, next, err := namePage(r.URL.Query(), list, func(ri engine.RuleInfo) string { return ri.Name })
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out := struct {
		Rules []ruleJSON `json:"rules"`
		Next  string     `json:"next,omitempty"`
	}{Rules: make([]ruleJSON, 0, len(items)), Next: next}
	for _, ri := range items {
		out.Rules = append(out.Rules, ruleOf(ri))
	}
	writeJSON(w, http.StatusOK, out)
}

// managementFailed answers an error of the management methods and reports
// whether there was one.
func (h *Handler) managementFailed(w http.ResponseWriter, r *http.Request, err error) bool {
	var inv *engine.InvalidError
	switch {
	case err == nil:
		return false
	case errors.Is(err, engine.ErrUnknownName):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, engine.ErrNoStore):
		writeError(w, http.StatusServiceUnavailable, "the engine runs without a store: overrides cannot be kept")
	case errors.As(err, &inv):
		writeError(w, http.StatusUnprocessableEntity, inv.Msg)
	default:
		h.internalError(w, r, err)
	}
	return true
}

func (h *Handler) setCalloutActive(active bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := h.eng.SetCalloutActive(r.Context(), r.PathValue("name"), active)
		if h.managementFailed(w, r, err) {
			return
		}
		writeJSON(w, http.StatusOK, calloutOf(c))
	}
}

func (h *Handler) setRuleActive(active bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ri, err := h.eng.SetRuleActive(r.Context(), r.PathValue("name"), active)
		if h.managementFailed(w, r, err) {
			return
		}
		writeJSON(w, http.StatusOK, ruleOf(ri))
	}
}

// testRequestJSON is the body of POST /v1/callouts/{name}/test.
type testRequestJSON struct {
	Event json.RawMessage `json:"event"`
	Send  bool            `json:"send"`
}

// testResponseJSON answers POST /v1/callouts/{name}/test.
type testResponseJSON struct {
	Request    testRenderedJSON `json:"request"`
	DeliveryID string           `json:"delivery_id,omitempty"`
	Response   *testAnswerJSON  `json:"response,omitempty"`
}

type testRenderedJSON struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

type testAnswerJSON struct {
	Status     int               `json:"status"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
	Error      string            `json:"error,omitempty"`
	DurationMS float64           `json:"duration_ms"`
}

// maskedResponseHeaders are response headers whose values a test answer never shows.
var maskedResponseHeaders = []string{"Set-Cookie", "Authorization", "Proxy-Authenticate", "WWW-Authenticate"}

func (h *Handler) testCallout(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, MaxEventBody)
	if !ok {
		return
	}
	var in testRequestJSON
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			writeError(w, http.StatusBadRequest, "invalid test body: "+err.Error()+` (want {"event": {...}, "send": true|false}, both optional)`)
			return
		}
	}
	var ev *rules.Event
	if len(in.Event) > 0 && string(in.Event) != "null" {
		var err error
		if ev, err = h.eng.Config().DecodeEvent(in.Event, h.now); err != nil {
			writeError(w, http.StatusBadRequest, "event: "+err.Error())
			return
		}
	}
	ctx := r.Context()
	t, err := h.eng.TestCallout(ctx, r.PathValue("name"), ev, in.Send)
	if h.managementFailed(w, r, err) {
		return
	}
	m := t.Request.Masked()
	hdr := map[string]string{}
	for k, v := range m.Header {
		hdr[k] = v
	}
	if t.Authorized {
		hdr["Authorization"] = "Basic " + maskedToken
	}
	if t.Signed {
		hdr["Webhook-Signature"] = maskedToken
	}
	out := testResponseJSON{
		Request:    testRenderedJSON{Method: m.Method, URL: m.URL, Headers: hdr, Body: string(m.Body)},
		DeliveryID: t.DeliveryID,
	}
	if a := t.Response; a != nil {
		ans := &testAnswerJSON{Status: a.Status, Headers: map[string]string{}, Body: printable(a.Body), Error: rules.MaskURLsIn(a.Error),
			DurationMS: float64(a.Duration.Microseconds()) / 1000}
		for k, v := range a.Header {
			ans.Headers[k] = strings.Join(v, ", ")
		}
		ans.Headers = rules.MaskHeaders(ans.Headers, maskedResponseHeaders)
		out.Response = ans
	}
	writeJSON(w, http.StatusOK, out)
}

// printable is b as text; bytes that are not UTF-8 are replaced.
func printable(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// bulkRetryJSON is the body of POST /v1/deliveries/retry.
type bulkRetryJSON struct {
	Status  string `json:"status"`
	Kind    string `json:"kind"`
	Callout string `json:"callout"`
	Since   string `json:"since"`
	Until   string `json:"until"`
	DryRun  bool   `json:"dry_run"`
}

// ParseSince reads a time bound of a bulk retry: an RFC 3339 time, or a duration
// (such as 1h or 30m) meaning that long before now.
func ParseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	}
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("%q: want an RFC 3339 time (2026-01-02T15:04:05Z) or a duration before now (1h, 30m, 7d)", s)
	}
	return now.Add(-d), nil
}

// RetryFilterOf builds the store filter of a bulk retry from its fields.
func RetryFilterOf(status, kind, callout, since, until string, now time.Time) (store.RetryFilter, error) {
	f := store.RetryFilter{Status: store.Status(status), Kind: store.Kind(kind), Callout: callout}
	switch f.Status {
	case "", store.StatusFailed, store.StatusPending:
	default:
		return f, fmt.Errorf("status %q: want failed or pending (a delivered delivery is never sent again)", status)
	}
	if kind != "" && !f.Kind.Valid() {
		return f, fmt.Errorf("kind %q: want callout, email or note", kind)
	}
	var err error
	if f.Since, err = ParseSince(since, now); err != nil {
		return f, fmt.Errorf("since %w", err)
	}
	if f.Until, err = ParseSince(until, now); err != nil {
		return f, fmt.Errorf("until %w", err)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return f, errors.New("until must be after since")
	}
	return f, nil
}

func (h *Handler) retryDeliveries(w http.ResponseWriter, r *http.Request) {
	st := h.requireStore(w, "the engine runs without a store")
	if st == nil {
		return
	}
	body, ok := readBody(w, r, MaxAdminBody)
	if !ok {
		return
	}
	var in bulkRetryJSON
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			writeError(w, http.StatusBadRequest, "invalid retry filter: "+err.Error()+` (want {"status", "kind", "callout", "since", "until", "dry_run"})`)
			return
		}
	}
	f, err := RetryFilterOf(in.Status, in.Kind, in.Callout, in.Since, in.Until, h.now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if in.DryRun {
		n, err := st.CountMatching(r.Context(), f)
		if err != nil {
			h.internalError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]int64{"count": n})
		return
	}
	n, err := st.RetryMatching(r.Context(), f, h.now())
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	if n > 0 {
		h.eng.Wake()
	}
	h.log.Info("httpapi: deliveries retried in bulk", "retried", n, "status", string(f.Status), "callout", f.Callout)
	writeJSON(w, http.StatusOK, map[string]int64{"retried": n})
}
