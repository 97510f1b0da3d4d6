package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/ruleflow/ruleflow/callouts/egress"
	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// webhookPath is the AR System REST resource of webhooks.
const webhookPath = "/api/arsys/v1.0/webhook"

// WebhookJSON is an AR System webhook as the REST API reads and writes it (the BMC
// seed's shape). On input webhook_id and _links are accepted and ignored (a PUT's
// webhook_id must match the URL); a password of "********" on PUT keeps the stored
// one. On output the password is always "********".
type WebhookJSON struct {
	WebhookID     string       `json:"webhook_id,omitempty"`
	Description   string       `json:"description"`
	FormName      string       `json:"form_name"`
	Condition     string       `json:"condition"`
	EntryEvents   []string     `json:"entry_events"`
	PayloadFields []string     `json:"payload_fields"`
	Enabled       *bool        `json:"enabled,omitempty"`
	Callback      CallbackJSON `json:"callback"`
	EnumFormat    string       `json:"enum_format,omitempty"` // ruleflow extension: "name" sends selections by name, "value" (default) by AR value
	Orphaned      bool         `json:"orphaned,omitempty"`    // ruleflow extension, output only: the form is not configured, so the webhook does not fire
	Links         *LinksJSON   `json:"_links,omitempty"`
}

// CallbackJSON is a webhook's callback.
type CallbackJSON struct {
	URL            string                `json:"url"`
	Authentication AuthenticationJSON    `json:"authentication"`
	Headers        map[string]HeaderJSON `json:"headers,omitempty"`
}

// AuthenticationJSON is a callback's authentication.
type AuthenticationJSON struct {
	Type     string `json:"type"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// LinksJSON is the HAL-style links block of AR REST resources.
type LinksJSON struct {
	Self []LinkJSON `json:"self"`
}

// LinkJSON is one link.
type LinkJSON struct {
	Href string `json:"href"`
}

// webhookListJSON answers GET /api/arsys/v1.0/webhook.
type webhookListJSON struct {
	Entries []WebhookJSON `json:"entries"`
	Links   LinksJSON     `json:"_links"`
}

// DecodeWebhook decodes a webhook registration body. Unknown keys, a wrong JSON type
// and trailing data are errors naming the problem; the content (form, events,
// condition, callback) is checked by the engine.
func DecodeWebhook(body []byte) (*rules.Webhook, string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var in WebhookJSON
	if err := dec.Decode(&in); err != nil {
		return nil, "", bodyError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "", errors.New("invalid JSON: unexpected data after the webhook object")
	}
	w := &rules.Webhook{
		Description:   in.Description,
		FormName:      in.FormName,
		Condition:     in.Condition,
		PayloadFields: in.PayloadFields,
		Enabled:       in.Enabled,
		EnumFormat:    rules.EnumFormat(strings.ToLower(in.EnumFormat)),
		Callback: rules.WebhookCallback{
			URL: in.Callback.URL,
			Authentication: rules.WebhookAuthentication{
				Type:     strings.ToLower(in.Callback.Authentication.Type),
				Username: in.Callback.Authentication.Username,
				Password: rules.Secret(in.Callback.Authentication.Password),
			},
		},
	}
	w.Callback.Headers, w.Callback.SecretHeaders = headersOf(in.Callback.Headers)
	for _, e := range in.EntryEvents {
		w.EntryEvents = append(w.EntryEvents, rules.Kind(strings.ToLower(strings.TrimSpace(e))))
	}
	return w, in.WebhookID, nil
}

// bodyError rewrites an encoding/json error as a message naming the key.
func bodyError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		if te.Field == "" {
			return fmt.Errorf("invalid JSON: want an object, got %s", te.Value)
		}
		return fmt.Errorf("invalid JSON: %q must be %s, got %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
	case errors.As(err, &se):
		return fmt.Errorf("invalid JSON at offset %d: %v", se.Offset, se)
	case errors.Is(err, io.EOF):
		return errors.New("invalid JSON: empty body")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("invalid JSON: unexpected end of input")
	}
	return errors.New("invalid JSON: " + strings.TrimPrefix(err.Error(), "json: "))
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "map", "struct":
		return "an object"
	case "bool":
		return "true or false"
	case "ptr":
		return "true or false" // only Enabled is a pointer
	}
	return "a " + k
}

// webhookJSON renders w for a response, its password, the credential-like query
// values of its callback URL and its secret headers masked.
func webhookJSON(w *rules.Webhook, self string) WebhookJSON {
	enabled := w.IsEnabled()
	out := WebhookJSON{
		WebhookID:     w.WebhookID,
		Description:   w.Description,
		FormName:      w.FormName,
		Condition:     w.Condition,
		EntryEvents:   make([]string, len(w.EntryEvents)),
		PayloadFields: w.PayloadFields,
		Enabled:       &enabled,
		EnumFormat:    string(w.EnumFormat),
		Callback: CallbackJSON{
			URL:     rules.MaskURL(w.Callback.URL),
			Headers: headersJSON(w.Callback.Headers, w.Callback.SecretHeaders),
			Authentication: AuthenticationJSON{
				Type:     strings.ToUpper(w.Callback.Authentication.Type),
				Username: w.Callback.Authentication.Username,
				Password: w.Callback.Authentication.Password.String(),
			},
		},
		Links: &LinksJSON{Self: []LinkJSON{{Href: self}}},
	}
	if out.Callback.Authentication.Type == "" {
		out.Callback.Authentication.Type = "NONE"
	}
	if out.PayloadFields == nil {
		out.PayloadFields = []string{}
	}
	for i, k := range w.EntryEvents {
		out.EntryEvents[i] = string(k)
	}
	return out
}

// baseURL is the scheme and host the client used to reach the server.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// webhookError answers an engine error of the webhook registry.
func (h *Handler) webhookError(w http.ResponseWriter, r *http.Request, err error) {
	var inv *engine.InvalidError
	switch {
	case errors.As(err, &inv):
		writeError(w, http.StatusBadRequest, inv.Error())
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("webhook %s does not exist", r.PathValue("id")))
	case errors.Is(err, store.ErrDuplicate):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, engine.ErrReadOnly):
		writeError(w, http.StatusConflict, err.Error()+"; change it there")
	case errors.Is(err, engine.ErrNoStore):
		writeError(w, http.StatusServiceUnavailable, "webhook registration needs a store")
	default:
		h.internalError(w, r, err)
	}
}

func (h *Handler) createWebhook(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, MaxAdminBody)
	if !ok {
		return
	}
	wh, _, err := DecodeWebhook(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if wh.Callback.Authentication.Password == rules.Masked {
		writeError(w, http.StatusBadRequest, `callback: password "********" is the mask, not a password`)
		return
	}
	if name, masked := maskedSecretHeader(wh); masked {
		writeError(w, http.StatusBadRequest, fmt.Sprintf(`callback: header %q: "********" is the mask, not a value`, name))
		return
	}
	if !h.egressAllows(w, wh) {
		return
	}
	created, err := h.eng.CreateWebhook(r.Context(), wh)
	if err != nil {
		h.webhookError(w, r, err)
		return
	}
	loc := webhookPath + "/" + created.WebhookID
	h.log.Info("httpapi: webhook registered", "webhook", created.WebhookID, "form", created.FormName)
	w.Header().Set("Location", loc)
	writeJSON(w, http.StatusCreated, h.webhookOut(created, baseURL(r)+loc))
}

// egressAllows answers 400 and returns false when the callback URL's host is a
// literal address (in any spelling) that the egress guard refuses to
// API-registered webhooks; the message names the rule. A host name is judged when
// it is dialled, on the addresses it resolves to.
func (h *Handler) egressAllows(w http.ResponseWriter, wh *rules.Webhook) bool {
	if err := h.eng.EgressPolicy().CheckURL(wh.Callback.URL, egress.FromAPI); err != nil {
		writeError(w, http.StatusBadRequest, "callback: url: "+err.Error())
		return false
	}
	return true
}

func (h *Handler) listWebhooks(w http.ResponseWriter, r *http.Request) {
	list, err := h.eng.Webhooks(r.Context())
	if err != nil {
		h.webhookError(w, r, err)
		return
	}
	out := webhookListJSON{Entries: make([]WebhookJSON, 0, len(list)), Links: LinksJSON{Self: []LinkJSON{{Href: baseURL(r) + webhookPath}}}}
	for _, wh := range list {
		out.Entries = append(out.Entries, h.webhookOut(wh, baseURL(r)+webhookPath+"/"+wh.WebhookID))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) getWebhook(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	wh, err := h.eng.Webhook(r.Context(), id)
	if err != nil {
		h.webhookError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h.webhookOut(wh, baseURL(r)+webhookPath+"/"+wh.WebhookID))
}

func (h *Handler) updateWebhook(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, ok := readBody(w, r, MaxAdminBody)
	if !ok {
		return
	}
	wh, bodyID, err := DecodeWebhook(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if bodyID != "" && bodyID != id {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("webhook_id %q in the body does not match %q in the URL", bodyID, id))
		return
	}
	wh.WebhookID = id
	if stored, err := h.eng.Webhook(r.Context(), id); err == nil {
		keepMasked(wh, stored)
	}
	if !h.egressAllows(w, wh) {
		return
	}
	if err := h.eng.UpdateWebhook(r.Context(), wh); err != nil {
		h.webhookError(w, r, err)
		return
	}
	h.log.Info("httpapi: webhook updated", "webhook", id)
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := h.eng.DeleteWebhook(r.Context(), id); err != nil {
		h.webhookError(w, r, err)
		return
	}
	h.log.Info("httpapi: webhook deleted", "webhook", id)
	w.WriteHeader(http.StatusNoContent)
}

// jwtLogin handles POST /api/jwt/login, the AR REST API's log-in, so that AR
// System clients work unchanged: it accepts the form fields username (any) and
// password, and when the password is the admin token it answers 200 with the token
// as text/plain — the value such clients then send as "Authorization: AR-JWT
// <token>". Anything else is 401.
func (h *Handler) jwtLogin(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, 16<<10)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || mediaType(r) != "application/x-www-form-urlencoded" {
		writeError(w, http.StatusBadRequest, "want a form (application/x-www-form-urlencoded) with username and password")
		return
	}
	if h.opts.AdminToken == "" || !adminMatches(form.Get("password"), h.opts.AdminToken) {
		writeError(w, http.StatusUnauthorized, "invalid user name or password")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, h.opts.AdminToken)
}
