package engine

import "github.com/ruleflow/ruleflow/rules"

// recipients resolves the to entries of notify block n for event ev (issue 11 §4:
// addresses, resource names, role:R, field:F) when the event is handled, so that a
// field: entry reads the record as of the save; the result is stored with the
// delivery or e-mail. Entries that resolve to nothing are logged; the others
// still receive the e-mail.
func (e *Engine) recipients(cfg *rules.Config, n *rules.Notify, ev *rules.Event, attrs ...any) []string {
	to, err := cfg.Recipients(n, ev)
	if err != nil {
		e.log.Warn("engine: notification recipient not resolved", append(attrs, "form", ev.Form, "entry_id", ev.EntryID, "error", err)...)
	}
	return to
}

// withRecipients is n with to as its recipients: those stored with the delivery, or
// when it stored none (enqueued before recipients were stored), those n names
// without an event.
func withRecipients(cfg *rules.Config, n *rules.Notify, to []string) *rules.Notify {
	if n == nil {
		return nil
	}
	if to == nil {
		return cfg.StaticRecipients(n)
	}
	cp := *n
	cp.To = to
	return &cp
}
