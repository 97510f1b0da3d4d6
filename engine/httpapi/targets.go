package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// targetRequest is the body of POST /v1/targets.
type targetRequest struct {
	Name    string         `json:"name"`
	IParams map[string]any `json:"iparams"`
}

// targetJSON describes a target. URL is set only in the answer to its creation: the
// token is never stored, so it cannot be shown again.
type targetJSON struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	URL       string         `json:"url,omitempty"`
	IParams   map[string]any `json:"iparams"`
	CreatedAt time.Time      `json:"created_at"`
	RevokedAt *time.Time     `json:"revoked_at,omitempty"`
	// Registration and Deregistration are the state of the target's register and
	// deregister calls for this installation (registration.go).
	Registration   *registrationJSON   `json:"registration,omitempty"`
	Deregistration *deregistrationJSON `json:"deregistration,omitempty"`
}

func targetOf(tg store.Target) targetJSON {
	out := targetJSON{ID: tg.ID, Name: tg.Name, IParams: map[string]any{}, CreatedAt: tg.CreatedAt}
	if len(tg.IParams) > 0 {
		_ = json.Unmarshal(tg.IParams, &out.IParams) // written by createTarget as an object
	}
	if !tg.RevokedAt.IsZero() {
		at := tg.RevokedAt
		out.RevokedAt = &at
	}
	return out
}

// createTarget handles POST /v1/targets: a new installation of one of the
// configuration's target_urls, with its own unguessable /hooks/<token> URL and
// iparams. Installations of one target coexist; each is revoked on its own.
func (h *Handler) createTarget(w http.ResponseWriter, r *http.Request) {
	st := h.requireStore(w, "targets need a store")
	if st == nil {
		return
	}
	body, ok := readBody(w, r, MaxAdminBody)
	if !ok {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var in targetRequest
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, bodyError(err).Error())
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		writeError(w, http.StatusBadRequest, "invalid JSON: unexpected data after the object")
		return
	}
	if strings.TrimSpace(in.Name) == "" {
		writeError(w, http.StatusBadRequest, `"name" is required: the name of a target_urls entry of the configuration`)
		return
	}
	if _, ok := h.eng.Config().Target(in.Name); !ok {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown target %q: not a target_urls name of the configuration", in.Name))
		return
	}
	if in.IParams == nil {
		in.IParams = map[string]any{}
	}
	iparams, err := json.Marshal(in.IParams)
	if err != nil {
		writeError(w, http.StatusBadRequest, "iparams: "+err.Error())
		return
	}
	token := NewToken()
	tg, err := h.eng.CreateTarget(r.Context(), store.Target{Name: in.Name, TokenHash: store.HashToken(token), IParams: iparams}, h.targetURL(r, in.Name, token))
	var inv *engine.InvalidError
	if errors.As(err, &inv) {
		writeError(w, http.StatusBadRequest, inv.Error())
		return
	}
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	h.log.Info("httpapi: target created", "target", tg.ID, "name", tg.Name)
	out := h.withRegistration(r, targetOf(tg))
	out.URL = "/hooks/" + token
	writeJSON(w, http.StatusCreated, out)
}

func (h *Handler) listTargets(w http.ResponseWriter, r *http.Request) {
	st := h.requireStore(w, "targets need a store")
	if st == nil {
		return
	}
	list, err := st.ListTargets(r.Context())
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	regs, err := st.ListRegistrations(r.Context())
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	out := make([]targetJSON, 0, len(list))
	for _, tg := range list {
		tj := targetOf(tg)
		if reg, ok := regs[tg.ID]; ok {
			tj.Registration, tj.Deregistration = registrationOf(reg)
		}
		out = append(out, tj)
	}
	writeJSON(w, http.StatusOK, out)
}

// revokeTarget handles DELETE /v1/targets/{id}: the URL answers 404 from now on.
func (h *Handler) revokeTarget(w http.ResponseWriter, r *http.Request) {
	st := h.requireStore(w, "targets need a store")
	if st == nil {
		return
	}
	id := r.PathValue("id")
	err := h.eng.RevokeTarget(r.Context(), id)
	if h.storeFailed(w, r, err, fmt.Sprintf("target %s does not exist or is already revoked", id)) {
		return
	}
	h.log.Info("httpapi: target revoked", "target", id)
	w.WriteHeader(http.StatusNoContent)
}

// hookReply answers an external event.
type hookReply = eventReply

// postHook handles POST /hooks/{token}: an external event for the target the token
// belongs to.
func (h *Handler) postHook(w http.ResponseWriter, r *http.Request) {
	st := h.eng.Records()
	if st == nil {
		writeError(w, http.StatusNotFound, "no such target URL")
		return
	}
	tg, err := st.TargetByTokenHash(r.Context(), store.HashToken(r.PathValue("token")))
	if h.storeFailed(w, r, err, "no such target URL") {
		return
	}
	now := h.now()
	if ok, wait := h.limiter.allow(tg.ID, now); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
		writeError(w, http.StatusTooManyRequests, fmt.Sprintf("rate limit of %d calls per minute exceeded for target %q", h.opts.HookRate, tg.Name))
		return
	}
	cfgTarget, ok := h.eng.Config().Target(tg.Name)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("target %q is no longer in the configuration", tg.Name))
		return
	}
	body, ok := readBody(w, r, MaxHookBody)
	if !ok {
		return
	}
	data, err := DecodeHookBody(mediaType(r), body)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, errUnsupportedMedia) {
			status = http.StatusUnsupportedMediaType
		}
		writeError(w, status, err.Error())
		return
	}
	var stored map[string]any
	if len(tg.IParams) > 0 {
		_ = json.Unmarshal(tg.IParams, &stored) // written by createTarget as an object
	}
	payload := ExternalPayload(cfgTarget, stored, data, r.Header, now)
	ev := &rules.Event{Kind: rules.KindExternal, Form: tg.Name, EntryID: store.NewID("ext_", now), Time: now, After: FlattenPayload(payload)}
	h.handleOne(w, r, ev, "httpapi: external event", "target", tg.ID)
}

var errUnsupportedMedia = errors.New("unsupported Content-Type")

// DecodeHookBody decodes the body of an external event by its media type: JSON
// (application/json or any +json), XML (application/xml, text/xml or any +xml;
// converted by XMLToJSON) or a url-encoded form (a field given once is a string,
// given several times an array of strings). JSON and XML nest at most MaxXMLDepth
// levels. An empty body is an empty object.
func DecodeHookBody(media string, body []byte) (any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	switch {
	case media == "application/json" || strings.HasSuffix(media, "+json"):
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, bodyError(err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, errors.New("invalid JSON: unexpected data after the value")
		}
		if depth(v) > MaxXMLDepth {
			return nil, fmt.Errorf("JSON nested deeper than %d levels", MaxXMLDepth)
		}
		return v, nil
	case media == "application/xml" || media == "text/xml" || strings.HasSuffix(media, "+xml"):
		return XMLToJSON(body)
	case media == "application/x-www-form-urlencoded":
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("invalid form body: %v", err)
		}
		out := make(map[string]any, len(q))
		for k, vs := range q {
			if len(vs) == 1 {
				out[k] = vs[0]
				continue
			}
			arr := make([]any, len(vs))
			for i, v := range vs {
				arr[i] = v
			}
			out[k] = arr
		}
		return out, nil
	case media == "":
		return nil, fmt.Errorf("%w: missing (want application/json, application/xml, text/xml or application/x-www-form-urlencoded)", errUnsupportedMedia)
	}
	return nil, fmt.Errorf("%w %q (want application/json, application/xml, text/xml or application/x-www-form-urlencoded)", errUnsupportedMedia, media)
}

// depth is how deeply v's arrays and objects nest (a scalar is 0). It stops
// counting past MaxXMLDepth+1.
func depth(v any) int {
	var walk func(v any, d int) int
	walk = func(v any, d int) int {
		if d > MaxXMLDepth {
			return d
		}
		best := d
		switch x := v.(type) {
		case map[string]any:
			for _, c := range x {
				best = max(best, walk(c, d+1))
			}
		case []any:
			for _, c := range x {
				best = max(best, walk(c, d+1))
			}
		}
		return best
	}
	return walk(v, 0)
}

// hiddenHeaders are request headers never passed on to the rules: credentials.
var hiddenHeaders = []string{"Authorization", "Cookie", "Proxy-Authorization", "X-Auth-Token"}

// ExternalPayload builds the Freshworks-style payload of an external event:
// {"account_id","domain","event":"onExternalEvent","region","timestamp","data",
// "headers","iparams"}. iparams are the target's configured ones overlaid with
// those stored at its creation; headers are the request's (first value of each,
// credentials left out); timestamp is epoch seconds.
func ExternalPayload(t *rules.TargetURL, stored map[string]any, data any, header http.Header, now time.Time) map[string]any {
	iparams := map[string]any{}
	maps.Copy(iparams, t.Iparams)
	maps.Copy(iparams, stored)
	headers := map[string]any{}
	for name, vs := range header {
		if len(vs) == 0 || slices.Contains(hiddenHeaders, http.CanonicalHeaderKey(name)) {
			continue
		}
		headers[http.CanonicalHeaderKey(name)] = vs[0]
	}
	return map[string]any{
		"account_id": t.AccountID,
		"domain":     t.Domain,
		"event":      "onExternalEvent",
		"region":     t.Region,
		"timestamp":  now.Unix(),
		"data":       data,
		"headers":    headers,
		"iparams":    iparams,
	}
}

// FlattenPayload turns an external-event payload into the event's record: each
// top-level key with its value (objects and arrays as their JSON text), plus every
// nested object member under its dotted path — data.call.id, headers.Content-Type,
// iparams.project. Arrays are not descended into; they are JSON text. Numbers
// become int64 when integral and float64 otherwise; strings, bools and null stay.
func FlattenPayload(payload map[string]any) rules.Record {
	rec := make(rules.Record, len(payload)*2)
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok {
			for k, c := range m {
				walk(prefix+"."+k, c)
			}
			return
		}
		rec[prefix] = rules.DynamicValue(v)
	}
	for k, v := range payload {
		rec[k] = rules.DynamicValue(v)
		if m, ok := v.(map[string]any); ok {
			for ck, c := range m {
				walk(k+"."+ck, c)
			}
		}
	}
	return rec
}
