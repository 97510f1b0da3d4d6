package engine

import (
	"log/slog"

	"github.com/ruleflow/ruleflow/rules"
)

// A registered webhook is orphaned when the configuration no longer declares its
// form (the form was removed, or its name mistyped). AR deletes the webhooks of a
// deleted form; ruleflow keeps them in the store, not firing, so that a typo in the
// configuration loses no registration: declaring the form again revives them.

// webhookOrphaned reports whether base declares no form named w.FormName.
func webhookOrphaned(base *rules.Config, w *rules.Webhook) bool {
	_, ok := base.Form(w.FormName)
	return !ok
}

// logOrphans warns once per orphaned webhook of stored, at every load and reload,
// and returns how many there are.
func logOrphans(base *rules.Config, stored []*rules.Webhook, log *slog.Logger) int {
	n := 0
	for _, w := range stored {
		if webhookOrphaned(base, w) {
			n++
			log.Warn("engine: registered webhook is orphaned: its form is not configured; it does not fire until the form is declared again",
				"webhook", w.WebhookID, "form", w.FormName)
		}
	}
	return n
}

// WebhookOrphaned reports whether the registered webhook w is orphaned: the current
// configuration declares no form w.FormName, so w does not fire.
func (e *Engine) WebhookOrphaned(w *rules.Webhook) bool {
	return webhookOrphaned(e.cfg.Load().base, w)
}

// OrphanedWebhooks returns how many registered webhooks the current configuration
// leaves orphaned.
func (e *Engine) OrphanedWebhooks() int { return e.cfg.Load().orphaned }

func (m *metrics) setOrphaned(n int) {
	if m == nil {
		return
	}
	m.orphaned.Set(float64(n))
}

// followFormRename returns w with its form renamed when base no longer declares
// w.FormName but a form lists it in renamed_from (AR: "when you rename the form,
// the webhook is automatically updated"); otherwise w itself.
func followFormRename(base *rules.Config, w *rules.Webhook) *rules.Webhook {
	if _, ok := base.Form(w.FormName); ok {
		return w
	}
	f, ok := base.FormRenamedFrom(w.FormName)
	if !ok {
		return w
	}
	nw := *w
	nw.FormName = f.Name
	return &nw
}

// followFormRenames applies followFormRename to each of stored.
func followFormRenames(base *rules.Config, stored []*rules.Webhook) []*rules.Webhook {
	out := make([]*rules.Webhook, len(stored))
	for i, w := range stored {
		out[i] = followFormRename(base, w)
	}
	return out
}
