package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// registrationJSON is the state of an installation's register call in GET
// /v1/targets[/{id}]: pending, registered or failed, with the ID the external
// product returned and, when it failed, why.
type registrationJSON struct {
	Status string `json:"status"`
	ID     string `json:"id,omitempty"`
	Error  string `json:"error,omitempty"`
	Job    string `json:"job,omitempty"` // the register call's delivery (GET /v1/deliveries/{id})
}

// deregistrationJSON is the state of a revoked installation's deregister call:
// pending, deregistered, failed or skipped (the registration had failed).
type deregistrationJSON struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	Job    string `json:"job,omitempty"`
}

// registrationOf describes reg; nil parts are omitted (no register call, not
// revoked or no deregister call). Errors are shown with URLs masked: the
// installation's URL holds its token.
func registrationOf(reg store.Registration) (*registrationJSON, *deregistrationJSON) {
	var rj *registrationJSON
	var dj *deregistrationJSON
	if reg.Status != store.RegistrationNone && reg.Status != "" {
		rj = &registrationJSON{Status: string(reg.Status), ID: reg.RegistrationID, Error: rules.MaskURLsIn(reg.Error), Job: reg.RegisterJob}
	}
	if reg.DeregisterStatus != "" {
		dj = &deregistrationJSON{Status: string(reg.DeregisterStatus), Error: rules.MaskURLsIn(reg.DeregisterError), Job: reg.DeregisterJob}
	}
	return rj, dj
}

// withRegistration adds tj's registration state, when it has one.
func (h *Handler) withRegistration(r *http.Request, tj targetJSON) targetJSON {
	st := h.eng.Records()
	if st == nil {
		return tj
	}
	reg, err := st.GetRegistration(r.Context(), tj.ID)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			h.log.Error("httpapi: read registration", "target", tj.ID, "error", err)
		}
		return tj
	}
	tj.Registration, tj.Deregistration = registrationOf(reg)
	return tj
}

// getTarget handles GET /v1/targets/{id}: one installation, active or revoked,
// with its registration state.
func (h *Handler) getTarget(w http.ResponseWriter, r *http.Request) {
	st := h.requireStore(w, "targets need a store")
	if st == nil {
		return
	}
	id := r.PathValue("id")
	tg, err := st.GetTarget(r.Context(), id)
	if h.storeFailed(w, r, err, fmt.Sprintf("target %s does not exist", id)) {
		return
	}
	writeJSON(w, http.StatusOK, h.withRegistration(r, targetOf(tg)))
}

// targetURL is the absolute URL of the installation with token: the target's
// public_url, or the scheme and host the request came to, then /hooks/<token>.
func (h *Handler) targetURL(r *http.Request, name, token string) string {
	base := baseURL(r)
	if t, ok := h.eng.Config().Target(name); ok {
		base = publicBase(t, base)
	}
	return base + "/hooks/" + token
}

// publicBase is the scheme and host target t is reached on: its public_url, or
// base.
func publicBase(t *rules.TargetURL, base string) string {
	if t.PublicURL != "" {
		return strings.TrimSuffix(t.PublicURL, "/")
	}
	return strings.TrimSuffix(base, "/")
}
