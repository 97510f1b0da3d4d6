package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/ruleflow/ruleflow/rules"
)

// HeaderJSON is one callback header as the webhook API reads and writes it: a JSON
// string, or {"value": "...", "secret": true} for a value the API shows as
// "********" (as the configuration file's {value, secret: true}).
type HeaderJSON struct {
	Value  string
	Secret bool
}

// MarshalJSON writes a plain header as a string and a secret one as an object.
func (h HeaderJSON) MarshalJSON() ([]byte, error) {
	if !h.Secret {
		return json.Marshal(h.Value)
	}
	return json.Marshal(struct {
		Value  string `json:"value"`
		Secret bool   `json:"secret"`
	}{h.Value, true})
}

// UnmarshalJSON reads a string or an object with the keys value (required) and secret.
func (h *HeaderJSON) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		h.Secret = false
		return json.Unmarshal(b, &h.Value)
	}
	var obj struct {
		Value  *string `json:"value"`
		Secret bool    `json:"secret"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&obj); err != nil {
		return errors.New(`a header is a string or {"value": "...", "secret": true}`)
	}
	if obj.Value == nil {
		return errors.New(`a header object needs "value"`)
	}
	h.Value, h.Secret = *obj.Value, obj.Secret
	return nil
}

// headersJSON returns the callback headers for a response, the secret ones masked.
func headersJSON(h rules.Headers, secret []string) map[string]HeaderJSON {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string]HeaderJSON, len(h))
	for k, v := range rules.MaskHeaders(h, secret) {
		out[k] = HeaderJSON{Value: v, Secret: slices.ContainsFunc(secret, func(s string) bool { return strings.EqualFold(s, k) })}
	}
	return out
}

// headersOf splits request headers into the header map and the secret names.
func headersOf(in map[string]HeaderJSON) (rules.Headers, []string) {
	if in == nil {
		return nil, nil
	}
	h := make(rules.Headers, len(in))
	var secret []string
	for k, v := range in {
		h[k] = v.Value
		if v.Secret {
			secret = append(secret, k)
		}
	}
	slices.Sort(secret)
	return h, secret
}

// keepMasked puts back into w, a webhook sent with PUT, the stored values that GET
// showed masked: the callback URL when w's is the masked form of the stored one, and
// every secret header whose value is "********". (The password is the engine's.)
func keepMasked(w, stored *rules.Webhook) {
	if w.Callback.URL != stored.Callback.URL && w.Callback.URL == rules.MaskURL(stored.Callback.URL) {
		w.Callback.URL = stored.Callback.URL
	}
	for _, name := range w.Callback.SecretHeaders {
		if w.Callback.Headers[name] == rules.Masked {
			if old, ok := stored.Callback.Headers[name]; ok {
				w.Callback.Headers[name] = old
			}
		}
	}
}

// maskedSecretHeader returns the first secret header of w whose value is only the
// mask: a registration cannot keep a stored value it does not have.
func maskedSecretHeader(w *rules.Webhook) (string, bool) {
	for _, name := range w.Callback.SecretHeaders {
		if w.Callback.Headers[name] == rules.Masked {
			return name, true
		}
	}
	return "", false
}
