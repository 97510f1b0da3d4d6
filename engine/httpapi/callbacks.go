package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// publishJSON answers a publish: the token is shown this once.
type publishJSON struct {
	APIName   string `json:"api_name"`
	URL       string `json:"url"`
	AuthToken string `json:"auth_token"`
}

// callbackReply answers an invocation.
type callbackReply = eventReply

func callbackPath(apiName string) string { return "/callbacks/" + url.PathEscape(apiName) }

// callbackFunction resolves the {api_name} of the request, answering 404 if the
// configuration has no such function.
func (h *Handler) callbackFunction(w http.ResponseWriter, r *http.Request) (*rules.CallbackFunction, bool) {
	name := r.PathValue("api_name")
	fn, ok := h.eng.Config().CallbackFunction(name)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("callback function %q does not exist", name))
		return nil, false
	}
	if h.eng.Records() == nil {
		writeError(w, http.StatusServiceUnavailable, "callback functions need a store")
		return nil, false
	}
	return fn, true
}

// publishCallback publishes a callback function with a fresh token; the previous
// token stops working at once.
func (h *Handler) publishCallback(w http.ResponseWriter, r *http.Request) {
	fn, ok := h.callbackFunction(w, r)
	if !ok {
		return
	}
	token := NewToken()
	ct := store.CallbackToken{APIName: fn.APIName, Published: true, TokenHash: store.HashToken(token)}
	if _, err := h.eng.Records().PutCallbackToken(r.Context(), ct, h.now()); err != nil {
		h.internalError(w, r, err)
		return
	}
	h.log.Info("httpapi: callback function published", "api_name", fn.APIName)
	writeJSON(w, http.StatusOK, publishJSON{APIName: fn.APIName, URL: callbackPath(fn.APIName), AuthToken: token})
}

// unpublishCallback makes a callback function answer 404 until it is published again.
func (h *Handler) unpublishCallback(w http.ResponseWriter, r *http.Request) {
	fn, ok := h.callbackFunction(w, r)
	if !ok {
		return
	}
	ct := store.CallbackToken{APIName: fn.APIName, Published: false, TokenHash: store.HashToken(NewToken())}
	if _, err := h.eng.Records().PutCallbackToken(r.Context(), ct, h.now()); err != nil {
		h.internalError(w, r, err)
		return
	}
	h.log.Info("httpapi: callback function unpublished", "api_name", fn.APIName)
	writeJSON(w, http.StatusOK, map[string]any{"api_name": fn.APIName, "published": false})
}

// invokeCallback handles POST /callbacks/{api_name}: token, arguments, then a
// callback event for the rules.
func (h *Handler) invokeCallback(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("api_name")
	fn, ok := h.eng.Config().CallbackFunction(name)
	st := h.eng.Records()
	if !ok || st == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("callback function %q does not exist", name))
		return
	}
	ct, err := st.GetCallbackToken(r.Context(), fn.APIName)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && !ct.Published):
		writeError(w, http.StatusNotFound, fmt.Sprintf("callback function %q is not published", name))
		return
	case err != nil:
		h.internalError(w, r, err)
		return
	}
	token := r.Header.Get("X-Auth-Token")
	if token == "" {
		token = r.URL.Query().Get("auth_token")
	}
	if token == "" {
		writeError(w, http.StatusUnauthorized, "missing auth token (auth_token query parameter or X-Auth-Token header)")
		return
	}
	if !tokenMatches(token, ct.TokenHash) {
		writeError(w, http.StatusUnauthorized, "invalid auth token")
		return
	}
	body, ok := readBody(w, r, MaxHookBody)
	if !ok {
		return
	}
	raw, err := argumentsJSON(mediaType(r), body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rec, err := rules.DecodeArguments(fn.Parameters, raw)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	now := h.now()
	ev := &rules.Event{Kind: rules.KindCallback, Form: fn.APIName, EntryID: store.NewID("call_", now), Time: now, After: rec}
	h.handleOne(w, r, ev, "httpapi: callback", "api_name", fn.APIName)
}

// argumentsJSON extracts the JSON text of the arguments from a callback body: the
// url-encoded form field "arguments", or the "arguments" member of a JSON body (an
// object, or a string holding one). An empty body means no arguments.
func argumentsJSON(media string, body []byte) ([]byte, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	switch media {
	case "application/x-www-form-urlencoded":
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("invalid form body: %v", err)
		}
		for k := range q {
			if k != "arguments" {
				return nil, fmt.Errorf("unknown form field %q (want arguments)", k)
			}
		}
		if len(q["arguments"]) > 1 {
			return nil, errors.New(`form field "arguments" is given more than once`)
		}
		return []byte(q.Get("arguments")), nil
	case "application/json", "":
		dec := json.NewDecoder(bytes.NewReader(body))
		var in map[string]json.RawMessage
		if err := dec.Decode(&in); err != nil {
			return nil, bodyError(err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, errors.New("invalid JSON: unexpected data after the object")
		}
		for k := range in {
			if k != "arguments" {
				return nil, fmt.Errorf("unknown key %q (want arguments)", k)
			}
		}
		args := in["arguments"]
		// Some clients send the arguments object as a JSON string.
		var s string
		if json.Unmarshal(args, &s) == nil {
			return []byte(s), nil
		}
		return args, nil
	}
	return nil, fmt.Errorf("unsupported Content-Type %q (want application/json or application/x-www-form-urlencoded)", media)
}
