package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// callbackFunctionJSON describes a callback function for GET /v1/callback-functions.
type callbackFunctionJSON struct {
	APIName     string            `json:"api_name"`
	Description string            `json:"description,omitempty"`
	Published   bool              `json:"published"`
	URL         string            `json:"url"`
	Parameters  map[string]string `json:"parameters"`
	UpdatedAt   *time.Time        `json:"updated_at,omitempty"`
}

// publishJSON answers a publish: the token is shown this once.
type publishJSON struct {
	APIName   string `json:"api_name"`
	URL       string `json:"url"`
	AuthToken string `json:"auth_token"`
}

// callbackReply answers an invocation.
type callbackReply = eventReply

func callbackPath(apiName string) string { return "/callbacks/" + url.PathEscape(apiName) }

func (h *Handler) listCallbackFunctions(w http.ResponseWriter, r *http.Request) {
	st := h.requireStore(w, "callback functions need a store")
	if st == nil {
		return
	}
	stored, err := st.ListCallbackTokens(r.Context())
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	state := make(map[string]store.CallbackToken, len(stored))
	for _, ct := range stored {
		state[ct.APIName] = ct
	}
	out := []callbackFunctionJSON{}
	for _, fn := range h.eng.Config().Callbacks {
		cf := callbackFunctionJSON{APIName: fn.APIName, Description: fn.Description, URL: callbackPath(fn.APIName), Parameters: fn.Parameters}
		if cf.Parameters == nil {
			cf.Parameters = map[string]string{}
		}
		if ct, ok := state[fn.APIName]; ok {
			cf.Published = ct.Published
			at := ct.UpdatedAt
			cf.UpdatedAt = &at
		}
		out = append(out, cf)
	}
	writeJSON(w, http.StatusOK, out)
}

// callbackFunction resolves the {api_name} of the request, answering 404 if the
// configuration has no such function.
func (h *Handler) callbackFunction(w http.ResponseWriter, r *http.Request) (*rules.CallbackFunction, bool) {
	name := r.PathValue("api_name")
	fn, ok := h.eng.Config().CallbackFunction(name)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("callback function %q does not exist", name))
		return nil, false
	}
	if h.eng.Store() == nil {
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
	if _, err := h.eng.Store().PutCallbackToken(r.Context(), ct, h.now()); err != nil {
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
	if _, err := h.eng.Store().PutCallbackToken(r.Context(), ct, h.now()); err != nil {
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
	st := h.eng.Store()
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
	rec, err := DecodeArguments(fn.Parameters, raw)
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

// DecodeArguments checks a callback function's arguments — the JSON object text, as
// in arguments={"name":"tom","id":123} — against its declared parameters and returns
// them as a record. Every declared parameter is required, an undeclared one is an
// error, and so is a value of the wrong type; the error names the parameter. Types:
// string; int (an integer, or a string holding one) → int64; float (a number, or a
// string holding one) → float64; bool (true/false, or "true"/"false") → bool; date
// (RFC 3339, "2006-01-02" or epoch seconds) → time.Time; map (an object) → its JSON
// text. Empty data means no arguments.
func DecodeArguments(params map[string]string, data []byte) (rules.Record, error) {
	var args map[string]any
	if len(bytes.TrimSpace(data)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&args); err != nil {
			return nil, argumentsError(err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, errors.New("invalid arguments: unexpected data after the object")
		}
	}
	if len(args) > rules.MaxCallbackParameters {
		return nil, fmt.Errorf("too many arguments: %d (at most %d)", len(args), rules.MaxCallbackParameters)
	}
	var errs []string
	for k := range args {
		if _, ok := params[k]; !ok {
			errs = append(errs, fmt.Sprintf("unknown argument %q", k))
		}
	}
	slices.Sort(errs)
	rec := make(rules.Record, len(params))
	for _, name := range slices.Sorted(keys(params)) {
		v, ok := args[name]
		if !ok {
			errs = append(errs, fmt.Sprintf("missing argument %q (%s)", name, params[name]))
			continue
		}
		v, err := convertArgument(params[name], v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("argument %q: %v", name, err))
			continue
		}
		rec[name] = v
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "; "))
	}
	return rec, nil
}

func keys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func argumentsError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Errorf(`invalid arguments: want an object such as {"name":"tom","id":123}, got %s`, te.Value)
	case errors.As(err, &se):
		return fmt.Errorf("invalid arguments: JSON syntax error at offset %d: %v", se.Offset, se)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("invalid arguments: unexpected end of JSON")
	}
	return fmt.Errorf("invalid arguments: %v", err)
}

// convertArgument converts one argument's JSON value (decoded with UseNumber) to
// its parameter type.
func convertArgument(typ string, v any) (any, error) {
	str, isStr := v.(string)
	num, isNum := v.(json.Number)
	text := num.String() // the numeric text of a number or of a string holding one
	if isStr {
		text = strings.TrimSpace(str)
	}
	switch typ {
	case "string":
		if isStr {
			return str, nil
		}
		return nil, fmt.Errorf("want a string, got %s", describeJSON(v))
	case "int":
		if isStr || isNum {
			if i, err := strconv.ParseInt(text, 10, 64); err == nil {
				return i, nil
			}
		}
		return nil, fmt.Errorf("want an integer, got %s", describeJSON(v))
	case "float":
		if isStr || isNum {
			if f, err := strconv.ParseFloat(text, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return f, nil
			}
		}
		return nil, fmt.Errorf("want a number, got %s", describeJSON(v))
	case "bool":
		switch {
		case v == true, isStr && strings.EqualFold(str, "true"):
			return true, nil
		case v == false, isStr && strings.EqualFold(str, "false"):
			return false, nil
		}
		return nil, fmt.Errorf("want true or false, got %s", describeJSON(v))
	case "date":
		if isStr {
			if t, err := time.Parse(time.RFC3339Nano, str); err == nil {
				return t, nil
			}
			if t, err := time.Parse("2006-01-02", str); err == nil {
				return t, nil
			}
		}
		if isNum {
			if s, err := strconv.ParseInt(num.String(), 10, 64); err == nil && s > -1e11 && s < 1e11 {
				return time.Unix(s, 0).UTC(), nil
			}
		}
		return nil, fmt.Errorf("want a date (RFC 3339, 2006-01-02 or epoch seconds), got %s", describeJSON(v))
	case "map":
		if m, ok := v.(map[string]any); ok {
			b, err := json.Marshal(m)
			if err != nil {
				return nil, err
			}
			return string(b), nil
		}
		return nil, fmt.Errorf("want an object, got %s", describeJSON(v))
	}
	return nil, fmt.Errorf("parameter type %q is not supported", typ)
}

// describeJSON names a decoded JSON value for messages.
func describeJSON(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if len(x) > 40 {
			x = x[:40] + "…"
		}
		return fmt.Sprintf("string %q", x)
	case json.Number:
		return "number " + x.String()
	case bool:
		return "boolean " + strconv.FormatBool(x)
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}
