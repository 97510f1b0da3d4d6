package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ruleflow/ruleflow/callouts"
	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// deliveryJSON is an outbox job as the API shows it. The rendered request is shown
// only by GET /v1/deliveries/{id}; it never holds credentials (callouts add the
// Authorization header when sending), and it is shown through callouts.Request.Masked:
// credential-like query values and the headers marked secret: true are "********".
type deliveryJSON struct {
	ID             string        `json:"id"`
	Kind           string        `json:"kind"`
	Callout        string        `json:"callout,omitempty"`
	Rule           string        `json:"rule,omitempty"`
	Form           string        `json:"form,omitempty"`
	EntryID        string        `json:"entry_id,omitempty"`
	Event          string        `json:"event,omitempty"`
	ParentID       string        `json:"parent_id,omitempty"`
	Status         string        `json:"status"`
	Attempts       int           `json:"attempts"`
	MaxAttempts    int           `json:"max_attempts"`
	NextAt         *time.Time    `json:"next_at,omitempty"`
	CreatedAt      time.Time     `json:"created_at"`
	UpdatedAt      time.Time     `json:"updated_at"`
	LastStatusCode int           `json:"last_status_code,omitempty"`
	LastError      string        `json:"last_error,omitempty"`
	FirstAttemptAt *time.Time    `json:"first_attempt_at,omitempty"`
	LastAttemptAt  *time.Time    `json:"last_attempt_at,omitempty"`
	Request        *requestJSON  `json:"request,omitempty"`
	AttemptList    []attemptJSON `json:"attempt_log,omitempty"`
	// Breaker is the open circuit breaker a pending delivery waits for (breakers.go).
	Breaker *deliveryBreaker `json:"breaker,omitempty"`
}

type requestJSON struct {
	Method string            `json:"method"`
	URL    string            `json:"url"`
	Header map[string]string `json:"header,omitempty"`
	Body   string            `json:"body,omitempty"`
}

type attemptJSON struct {
	N          int       `json:"n"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS float64   `json:"duration_ms"`
	StatusCode int       `json:"status_code,omitempty"`
	Error      string    `json:"error,omitempty"`
	Response   string    `json:"response,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func deliveryOf(j store.Job) deliveryJSON {
	d := deliveryJSON{
		ID: j.ID, Kind: string(j.Kind), Callout: j.Callout, Rule: j.Rule, Form: j.Form, EntryID: j.EntryID,
		Event: j.EventKind, ParentID: j.ParentID, Status: string(j.Status), Attempts: j.Attempts,
		MaxAttempts: j.MaxAttempts, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt,
		LastStatusCode: j.LastStatusCode, LastError: rules.MaskURLsIn(j.LastError),
		FirstAttemptAt: timePtr(j.FirstAttemptAt), LastAttemptAt: timePtr(j.LastAttemptAt),
	}
	if j.Status == store.StatusPending {
		d.NextAt = timePtr(j.NextAt)
	}
	return d
}

// delivery is deliveryOf(j) with the form under its current name: a delivery
// stored before its form was renamed (renamed_from) shows the new one.
func (h *Handler) delivery(j store.Job) deliveryJSON {
	d := deliveryOf(j)
	d.Form = h.eng.Config().CurrentFormName(d.Form)
	return d
}

// deliveryList answers GET /v1/deliveries.
type deliveryList struct {
	Deliveries []deliveryJSON `json:"deliveries"`
	// Next is the cursor of the next page (pass it as after=), empty on the last page.
	Next string `json:"next,omitempty"`
	// Breakers are the circuit breakers of endpoints that recorded failures.
	Breakers []breakerJSON `json:"breakers,omitempty"`
}

// ParseDeliveryFilter reads the query of GET /v1/deliveries: status (pending,
// delivered, failed), kind (callout, email), callout, form, entry_id, after (a
// cursor) and limit (1 to 1000, default 100).
func ParseDeliveryFilter(q map[string][]string) (store.Filter, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[len(v)-1]
		}
		return ""
	}
	f := store.Filter{
		Status: store.Status(get("status")), Kind: store.Kind(get("kind")), Callout: get("callout"),
		Form: get("form"), EntryID: get("entry_id"), After: get("after"), Limit: 100,
	}
	for k := range q {
		switch k {
		case "status", "kind", "callout", "form", "entry_id", "after", "limit":
		default:
			return store.Filter{}, fmt.Errorf("unknown query parameter %q (want status, kind, callout, form, entry_id, after or limit)", k)
		}
	}
	if f.Status != "" && !f.Status.Valid() {
		return store.Filter{}, fmt.Errorf("status %q: want pending, delivered or failed", f.Status)
	}
	if f.Kind != "" && !f.Kind.Valid() {
		return store.Filter{}, fmt.Errorf("kind %q: want callout, email or note", f.Kind)
	}
	if s := get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return store.Filter{}, fmt.Errorf("limit %q: want an integer from 1 to 1000", s)
		}
		f.Limit = n
	}
	return f, nil
}

func (h *Handler) listDeliveries(w http.ResponseWriter, r *http.Request) {
	st := h.requireStore(w, "the engine runs without a store")
	if st == nil {
		return
	}
	f, err := ParseDeliveryFilter(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if names := h.eng.Config().FormNames(f.Form); f.Form != "" && len(names) > 1 {
		f.Form, f.Forms = "", names // the deliveries stored under its former names too
	}
	jobs, err := st.List(r.Context(), f)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	out := deliveryList{Deliveries: make([]deliveryJSON, 0, len(jobs))}
	for _, j := range jobs {
		out.Deliveries = append(out.Deliveries, h.delivery(j))
	}
	if len(jobs) == f.Limit {
		out.Next = jobs[len(jobs)-1].ID
	}
	h.addBreakers(r.Context(), &out)
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) getDelivery(w http.ResponseWriter, r *http.Request) {
	st := h.requireStore(w, "the engine runs without a store")
	if st == nil {
		return
	}
	id := r.PathValue("id")
	job, atts, err := st.Get(r.Context(), id)
	if h.storeFailed(w, r, err, fmt.Sprintf("delivery %s does not exist", id)) {
		return
	}
	d := h.delivery(job)
	if job.Kind == store.KindCallout {
		if p, err := engine.DecodeDeliveryPayload(job.Payload); err == nil && p.Request != nil {
			req := p.Request
			if job.Status == store.StatusPending { // as its next attempt will send it
				req, _ = callouts.RenamedForm(req, job.Form, d.Form)
			}
			m := req.Masked()
			d.Request = &requestJSON{Method: m.Method, URL: m.URL, Header: m.Header, Body: string(m.Body)}
		}
	}
	d.AttemptList = make([]attemptJSON, 0, len(atts))
	for _, a := range atts {
		d.AttemptList = append(d.AttemptList, attemptJSON{
			N: a.N, StartedAt: a.StartedAt, DurationMS: float64(a.Duration.Microseconds()) / 1000,
			StatusCode: a.StatusCode, Error: rules.MaskURLsIn(a.Error), Response: string(a.Response),
		})
	}
	writeJSON(w, http.StatusOK, d)
}

func (h *Handler) retryDelivery(w http.ResponseWriter, r *http.Request) {
	st := h.requireStore(w, "the engine runs without a store")
	if st == nil {
		return
	}
	id := r.PathValue("id")
	err := st.Retry(r.Context(), id, h.now())
	if errors.Is(err, store.ErrDelivered) {
		writeError(w, http.StatusConflict, fmt.Sprintf("delivery %s was already delivered; only a failed or pending delivery can be retried", id))
		return
	}
	if h.storeFailed(w, r, err, fmt.Sprintf("delivery %s does not exist", id)) {
		return
	}
	h.eng.Wake()
	job, _, err := st.Get(r.Context(), id)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	h.log.Info("httpapi: delivery retried by hand", "delivery", id)
	writeJSON(w, http.StatusAccepted, h.delivery(job))
}

// healthz answers 200 when the store answers, else 503.
func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	if st := h.eng.Records(); st != nil {
		if err := st.Ping(r.Context()); err != nil {
			id := requestID(r)
			h.log.Error("httpapi: health check: store unreachable", "request_id", id, "error", err)
			writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "store unreachable", RequestID: id})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
