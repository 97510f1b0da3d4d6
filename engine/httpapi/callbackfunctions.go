package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// The management of callback functions (ServiceDesk Plus's Callback Functions list):
// GET lists the configuration file's functions and those created through the API;
// POST creates one, PUT replaces and DELETE removes one created through the API (the
// file's are read-only: 409); publish and unpublish work on one function or, in
// bulk, on several at once, all or nothing.

// callbackFunctionPath is the management resource of callback functions.
const callbackFunctionPath = "/v1/callback-functions"

// reservedAPINames are the paths below callbackFunctionPath taken by the bulk
// operations, which a function created through the API cannot be called.
var reservedAPINames = []string{"publish", "unpublish"}

// CallbackFunctionInJSON is a callback function as POST and PUT take it. On PUT,
// api_name may be left out and must otherwise match the URL; published, when
// given, must be the function's state (change it with publish or unpublish).
type CallbackFunctionInJSON struct {
	APIName       string              `json:"api_name"`
	Description   string              `json:"description"`
	Published     *bool               `json:"published"`
	Parameters    map[string]string   `json:"parameters"`
	CalloutFields rules.CalloutFields `json:"callout_fields"`
	Condition     string              `json:"condition"`
	Callouts      []string            `json:"callouts"`
}

// decodeCallbackFunction decodes a create or replace body strictly: unknown keys, a
// wrong JSON type and trailing data are errors naming the problem. The content is
// judged by the engine.
func decodeCallbackFunction(body []byte) (*CallbackFunctionInJSON, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var in CallbackFunctionInJSON
	if err := dec.Decode(&in); err != nil {
		return nil, bodyError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: unexpected data after the callback function object")
	}
	return &in, nil
}

func (in *CallbackFunctionInJSON) function() *rules.CallbackFunction {
	return &rules.CallbackFunction{
		APIName: in.APIName, Description: in.Description, Parameters: in.Parameters,
		CalloutFields: in.CalloutFields, Condition: in.Condition, Callouts: in.Callouts,
	}
}

// callbackFunctionJSON describes a callback function for GET /v1/callback-functions.
type callbackFunctionJSON struct {
	APIName       string               `json:"api_name"`
	Description   string               `json:"description,omitempty"`
	Source        string               `json:"source"` // "file" or "api"
	Published     bool                 `json:"published"`
	URL           string               `json:"url"`
	AuthToken     string               `json:"auth_token,omitempty"` // the token on create, else "********" while published
	Parameters    map[string]string    `json:"parameters"`
	CalloutFields *rules.CalloutFields `json:"callout_fields,omitempty"`
	Condition     string               `json:"condition,omitempty"`
	Callouts      []string             `json:"callouts,omitempty"`
	Error         string               `json:"error,omitempty"` // why the configuration refuses a stored function
	CreatedAt     *time.Time           `json:"created_at,omitempty"`
	UpdatedAt     *time.Time           `json:"updated_at,omitempty"` // of the publication state
}

func functionJSON(info engine.CallbackFunctionInfo, ct store.CallbackToken, hasToken bool) callbackFunctionJSON {
	fn := info.Function
	out := callbackFunctionJSON{
		APIName: fn.APIName, Description: fn.Description, Source: "file", URL: callbackPath(fn.APIName),
		Parameters: fn.Parameters, Condition: fn.Condition, Callouts: fn.Callouts, Error: info.Error,
	}
	if info.API {
		out.Source = "api"
		at := info.CreatedAt
		out.CreatedAt = &at
	}
	if out.Parameters == nil {
		out.Parameters = map[string]string{}
	}
	if fn.CalloutFields != (rules.CalloutFields{}) {
		cf := fn.CalloutFields
		out.CalloutFields = &cf
	}
	if hasToken {
		out.Published = ct.Published
		at := ct.UpdatedAt
		out.UpdatedAt = &at
		if ct.Published {
			out.AuthToken = rules.Masked
		}
	}
	return out
}

func (h *Handler) listCallbackFunctions(w http.ResponseWriter, r *http.Request) {
	st := h.requireStore(w, "callback functions need a store")
	if st == nil {
		return
	}
	fns, err := h.eng.CallbackFunctions(r.Context())
	if err != nil {
		h.internalError(w, r, err)
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
	out := make([]callbackFunctionJSON, 0, len(fns))
	for _, info := range fns {
		ct, ok := state[info.Function.APIName]
		out = append(out, functionJSON(info, ct, ok))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) getCallbackFunction(w http.ResponseWriter, r *http.Request) {
	st := h.requireStore(w, "callback functions need a store")
	if st == nil {
		return
	}
	name := r.PathValue("api_name")
	info, err := h.eng.CallbackFunctionByName(r.Context(), name)
	if err != nil {
		h.callbackFunctionError(w, r, name, err)
		return
	}
	ct, err := st.GetCallbackToken(r.Context(), name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, functionJSON(info, ct, err == nil))
}

// callbackFunctionError answers an engine error of a callback function write.
func (h *Handler) callbackFunctionError(w http.ResponseWriter, r *http.Request, name string, err error) {
	var inv *engine.InvalidError
	switch {
	case errors.As(err, &inv):
		writeError(w, http.StatusBadRequest, inv.Error())
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("callback function %q does not exist", name))
	case errors.Is(err, engine.ErrReadOnly):
		writeError(w, http.StatusConflict, err.Error()+"; change it there")
	case errors.Is(err, store.ErrDuplicate):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, engine.ErrNoStore):
		writeError(w, http.StatusServiceUnavailable, "callback functions need a store")
	default:
		h.internalError(w, r, err)
	}
}

func (h *Handler) createCallbackFunction(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, MaxAdminBody)
	if !ok {
		return
	}
	in, err := decodeCallbackFunction(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	for _, res := range reservedAPINames {
		if in.APIName == res {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("api_name %q is reserved (POST %s/%s is the bulk operation)", res, callbackFunctionPath, res))
			return
		}
	}
	fn := in.function()
	token := ""
	if in.Published != nil && *in.Published {
		token = NewToken()
	}
	if err := h.eng.CreateCallbackFunction(r.Context(), fn, token); err != nil {
		h.callbackFunctionError(w, r, fn.APIName, err)
		return
	}
	h.log.Info("httpapi: callback function created", "api_name", fn.APIName, "published", token != "")
	info, err := h.eng.CallbackFunctionByName(r.Context(), fn.APIName)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	out := functionJSON(info, store.CallbackToken{Published: token != "", UpdatedAt: info.CreatedAt}, token != "")
	out.AuthToken = token // shown this once; "" when not published
	w.Header().Set("Location", callbackFunctionPath+"/"+fn.APIName)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
}

func (h *Handler) updateCallbackFunction(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("api_name")
	body, ok := readBody(w, r, MaxAdminBody)
	if !ok {
		return
	}
	in, err := decodeCallbackFunction(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if in.APIName != "" && in.APIName != name {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("api_name %q in the body does not match %q in the URL", in.APIName, name))
		return
	}
	if h.eng.CallbackFunctionReadOnly(name) {
		writeError(w, http.StatusConflict, fmt.Sprintf("callback function %q: %v; change it there", name, engine.ErrReadOnly))
		return
	}
	in.APIName = name
	if in.Published != nil {
		published := false
		if st := h.eng.Records(); st != nil {
			ct, err := st.GetCallbackToken(r.Context(), name)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				h.internalError(w, r, err)
				return
			}
			published = err == nil && ct.Published
		}
		if *in.Published != published {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("published: %t is not the function's state; change it with POST %s/%s/publish or /unpublish", *in.Published, callbackFunctionPath, name))
			return
		}
	}
	if err := h.eng.UpdateCallbackFunction(r.Context(), in.function()); err != nil {
		h.callbackFunctionError(w, r, name, err)
		return
	}
	h.log.Info("httpapi: callback function updated", "api_name", name)
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) deleteCallbackFunction(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("api_name")
	if err := h.eng.DeleteCallbackFunction(r.Context(), name); err != nil {
		h.callbackFunctionError(w, r, name, err)
		return
	}
	h.log.Info("httpapi: callback function deleted", "api_name", name)
	w.WriteHeader(http.StatusNoContent)
}

// bulkCallbacks serves POST /v1/callback-functions/publish and /unpublish. (One
// wildcard route, since ServeMux would let neither a literal path nor the
// wildcard's method-less 405 fallback coexist with GET …/{api_name}.)
func (h *Handler) bulkCallbacks(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("api_name") {
	case "publish":
		h.publishCallbacks(w, r)
	case "unpublish":
		h.unpublishCallbacks(w, r)
	default:
		allow := "DELETE, GET, HEAD, PUT"
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, routePath(r), allow))
	}
}

// bulkJSON is the body of the bulk publish and unpublish.
type bulkJSON struct {
	APINames []string `json:"api_names"`
}

// bulkNames decodes a bulk body and resolves every name, answering 400 for a bad
// body, an empty or repeated name, and 404 naming the first function that does not
// exist. Nothing is changed on an error.
func (h *Handler) bulkNames(w http.ResponseWriter, r *http.Request) ([]string, bool) {
	if h.requireStore(w, "callback functions need a store") == nil {
		return nil, false
	}
	body, ok := readBody(w, r, MaxAdminBody)
	if !ok {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var in bulkJSON
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, bodyError(err).Error())
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		writeError(w, http.StatusBadRequest, "invalid JSON: unexpected data after the object")
		return nil, false
	}
	if len(in.APINames) == 0 {
		writeError(w, http.StatusBadRequest, "api_names must name at least one callback function")
		return nil, false
	}
	seen := map[string]bool{}
	cfg := h.eng.Config()
	for i, name := range in.APINames {
		if seen[name] {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("api_names[%d]: %q is listed twice", i, name))
			return nil, false
		}
		seen[name] = true
		if _, ok := cfg.CallbackFunction(name); !ok {
			writeError(w, http.StatusNotFound, fmt.Sprintf("api_names[%d]: callback function %q does not exist", i, name))
			return nil, false
		}
	}
	return in.APINames, true
}

// publishCallbacks publishes several functions at once, each with a fresh token
// shown this once; the previous tokens stop working. All or nothing.
func (h *Handler) publishCallbacks(w http.ResponseWriter, r *http.Request) {
	names, ok := h.bulkNames(w, r)
	if !ok {
		return
	}
	cts := make([]store.CallbackToken, len(names))
	out := make([]publishJSON, len(names))
	for i, name := range names {
		token := NewToken()
		cts[i] = store.CallbackToken{APIName: name, Published: true, TokenHash: store.HashToken(token)}
		out[i] = publishJSON{APIName: name, URL: callbackPath(name), AuthToken: token}
	}
	if err := h.eng.Records().PutCallbackTokens(r.Context(), cts, h.now()); err != nil {
		h.internalError(w, r, err)
		return
	}
	h.log.Info("httpapi: callback functions published", "api_names", names)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

// unpublishedJSON answers an unpublish.
type unpublishedJSON struct {
	APIName   string `json:"api_name"`
	Published bool   `json:"published"`
}

// unpublishCallbacks unpublishes several functions at once. All or nothing.
func (h *Handler) unpublishCallbacks(w http.ResponseWriter, r *http.Request) {
	names, ok := h.bulkNames(w, r)
	if !ok {
		return
	}
	cts := make([]store.CallbackToken, len(names))
	out := make([]unpublishedJSON, len(names))
	for i, name := range names {
		cts[i] = store.CallbackToken{APIName: name, Published: false, TokenHash: store.HashToken(NewToken())}
		out[i] = unpublishedJSON{APIName: name}
	}
	if err := h.eng.Records().PutCallbackTokens(r.Context(), cts, h.now()); err != nil {
		h.internalError(w, r, err)
		return
	}
	h.log.Info("httpapi: callback functions unpublished", "api_names", names)
	writeJSON(w, http.StatusOK, out)
}
