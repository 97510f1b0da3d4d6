package httpapi

import "github.com/ruleflow/ruleflow/rules"

// webhookOut renders w for a response like webhookJSON, and marks a registered
// webhook whose form the configuration no longer declares as "orphaned": true and
// "enabled": false (it does not fire until the form is declared again).
func (h *Handler) webhookOut(w *rules.Webhook, self string) WebhookJSON {
	out := webhookJSON(w, self)
	if h.eng.WebhookOrphaned(w) {
		off := false
		out.Enabled, out.Orphaned = &off, true
	}
	return out
}
