package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/rules"
)

// firedJSON is one callout fired, as the API reports it.
type firedJSON struct {
	Event      *int   `json:"event,omitempty"` // index in a batch
	Rule       string `json:"rule"`
	Callout    string `json:"callout"`
	DeliveryID string `json:"delivery_id,omitempty"`
}

// eventsResponse answers POST /v1/events.
type eventsResponse struct {
	Fired []firedJSON `json:"fired"`
	// RuleErrors are the rules whose condition could not be evaluated (they did not
	// fire; the others did).
	RuleErrors []string `json:"rule_errors,omitempty"`
	// Set holds the values the rules set, field → value: an object for one event,
	// an array of objects (one per event) for a batch.
	Set json.RawMessage `json:"set,omitempty"`
	// RenderErrors are the callouts that could not be rendered for their event:
	// each is a failed delivery (listed in fired, with its delivery ID); the others
	// fired.
	RenderErrors []string `json:"render_errors,omitempty"`
}

// rejectedJSON answers 422 for a save a rule refused.
type rejectedJSON struct {
	Error string `json:"error"`
	Rule  string `json:"rule"`
	Event *int   `json:"event,omitempty"` // index in a batch
}

// eventReply answers a single event that arrived by its own endpoint: a callback
// invocation or an external event.
type eventReply struct {
	Status       string          `json:"status"`
	Fired        []firedJSON     `json:"fired"`
	RuleErrors   []string        `json:"rule_errors,omitempty"`
	RenderErrors []string        `json:"render_errors,omitempty"`
	Set          json.RawMessage `json:"set,omitempty"`
}

// ruleErrors lists the rule evaluation errors of a result, prefixed with the event
// index in a batch.
func ruleErrors(res *engine.Result, index *int) []string { return errorLines(res.RuleErrors, index) }

// renderErrors lists the callouts of a result that could not be rendered.
func renderErrors(res *engine.Result, index *int) []string {
	return errorLines(res.RenderErrors, index)
}

// errorLines lists the errors joined in err, prefixed with the event index in a batch.
func errorLines(err error, index *int) []string {
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	out := make([]string, 0, len(errs))
	for _, err := range errs {
		msg := err.Error()
		if index != nil {
			msg = fmt.Sprintf("event %d: %s", *index, msg)
		}
		out = append(out, msg)
	}
	return out
}

func firedOf(res *engine.Result, index *int) []firedJSON {
	out := make([]firedJSON, 0, len(res.Fired))
	for _, f := range res.Fired {
		out = append(out, firedJSON{Event: index, Rule: f.Rule, Callout: f.Callout, DeliveryID: f.DeliveryID})
	}
	return out
}

// SplitEvents splits a POST /v1/events body into its events: one JSON object, or a
// JSON array of objects. It checks only the outer shape; each element is decoded
// by rules.Config.DecodeEvent.
func SplitEvents(body []byte) (items []json.RawMessage, batch bool, err error) {
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return nil, false, errors.New("empty body: want an event object or an array of events")
	case trimmed[0] == '{':
		return []json.RawMessage{trimmed}, false, nil
	case trimmed[0] != '[':
		return nil, false, errors.New("want an event object or an array of events")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(&items); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, true, fmt.Errorf("invalid JSON at offset %d: %v", se.Offset, se)
		}
		return nil, true, fmt.Errorf("invalid JSON: %v", err)
	}
	if dec.More() {
		return nil, true, errors.New("unexpected data after the array of events")
	}
	if len(items) == 0 {
		return nil, true, errors.New("empty array: want at least one event")
	}
	for i, it := range items {
		if t := bytes.TrimSpace(it); len(t) == 0 || t[0] != '{' {
			return nil, true, fmt.Errorf("event %d: want an object", i)
		}
	}
	return items, true, nil
}

// postEvents handles POST /v1/events: every event is decoded and checked first, so
// a bad one (malformed, or holding text the store cannot hold) rejects the whole
// request with 400 and nothing enqueued; then all are handled at once, their
// deliveries stored in one transaction (engine.HandleBatch).
func (h *Handler) postEvents(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, MaxEventBody)
	if !ok {
		return
	}
	items, batch, err := SplitEvents(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	cfg := h.eng.Config()
	events := make([]*rules.Event, len(items))
	for i, it := range items {
		ev, err := cfg.DecodeEvent(it, h.now)
		if err != nil {
			if batch {
				err = fmt.Errorf("event %d: %w", i, err)
			}
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		events[i] = ev
	}
	results, status, err := h.handleBatch(r.Context(), events)
	if err != nil {
		var ee *engine.EventError
		if errors.As(err, &ee) && !batch {
			err = ee.Err
		}
		h.log.Error("httpapi: handle events", "events", len(events), "error", err)
		h.writeFailure(w, r, status, err)
		return
	}
	if h.rejected(w, results, batch) {
		return
	}
	resp := eventsResponse{Fired: []firedJSON{}}
	loc := cfg.Location
	var sets []json.RawMessage
	for i, res := range results {
		var idx *int
		if batch {
			idx = &i
		}
		resp.Fired = append(resp.Fired, firedOf(res, idx)...)
		resp.RuleErrors = append(resp.RuleErrors, ruleErrors(res, idx)...)
		resp.RenderErrors = append(resp.RenderErrors, renderErrors(res, idx)...)
		sets = append(sets, engine.SetJSON(res.Set, loc))
		if len(res.Set) > 0 {
			resp.Set = sets[0]
		}
	}
	if batch && resp.Set != nil {
		resp.Set, _ = json.Marshal(sets)
	}
	writeJSON(w, http.StatusAccepted, resp)
}

// rejected answers 422 {"error","rule"} when a rule refused one of the events
// (nothing was enqueued for any of them) and reports whether it did.
func (h *Handler) rejected(w http.ResponseWriter, results []*engine.Result, batch bool) bool {
	for i, res := range results {
		if res.Rejected == nil {
			continue
		}
		body := rejectedJSON{Error: res.Rejected.Message, Rule: res.Rejected.Rule}
		if batch {
			body.Event = &i
		}
		writeJSON(w, http.StatusUnprocessableEntity, body)
		return true
	}
	return false
}

// handleOne runs ev through h.handle and answers 200 with an eventReply, or the
// error; a failure is logged as msg with args.
func (h *Handler) handleOne(w http.ResponseWriter, r *http.Request, ev *rules.Event, msg string, args ...any) {
	results, status, err := h.handleBatch(r.Context(), []*rules.Event{ev})
	if err != nil {
		var ee *engine.EventError
		if errors.As(err, &ee) {
			err = ee.Err
		}
		h.log.Error(msg, append(args, "error", err)...)
		h.writeFailure(w, r, status, err)
		return
	}
	if h.rejected(w, results, false) {
		return
	}
	res := results[0]
	reply := eventReply{Status: "success", Fired: firedOf(res, nil), RuleErrors: ruleErrors(res, nil), RenderErrors: renderErrors(res, nil)}
	if len(res.Set) > 0 {
		reply.Set = engine.SetJSON(res.Set, h.eng.Config().Location)
	}
	writeJSON(w, http.StatusOK, reply)
}

// errTimeout is the message of a 503 for an event that ran out of time.
const errTimeout = "event handling exceeded the %s execution limit; nothing was enqueued"

// handleBatch runs evs through the engine as one batch (all enqueued, or
// nothing) within the execution limit. It returns the status to answer with when
// it fails: 400 for an event the store cannot hold, 503 when the limit was reached
// first (the engine enqueues atomically at the end, and only if the context is
// still live, so nothing was done), else 500.
func (h *Handler) handleBatch(ctx context.Context, evs []*rules.Event) ([]*engine.Result, int, error) {
	ctx, cancel := context.WithTimeout(ctx, h.opts.ExecTimeout)
	defer cancel()
	res, err := h.eng.HandleBatch(ctx, evs)
	if err == nil {
		return res, 0, nil
	}
	var ee *engine.EventError
	if errors.As(err, &ee) {
		return nil, http.StatusBadRequest, err
	}
	if ctx.Err() != nil {
		return nil, http.StatusServiceUnavailable, fmt.Errorf(errTimeout, h.opts.ExecTimeout)
	}
	if errors.Is(err, engine.ErrClosed) {
		return nil, http.StatusServiceUnavailable, err
	}
	return nil, http.StatusInternalServerError, err
}
