package engine

import (
	"fmt"

	"github.com/ruleflow/ruleflow/rules"
)

// refuseTimeRules reports the first time-based rule (events: [time]) of cfg: the
// configuration accepts and checks them, but this engine does not arm or fire timers
// yet, and a rule that loads but never fires would fail silently.
func refuseTimeRules(cfg *rules.Config) error {
	for _, r := range cfg.AllRules() {
		if r.IsTimeRule() {
			return fmt.Errorf("rule %q: time-based rules (events: [time]) are not run by this engine yet", r.Name)
		}
	}
	return nil
}

// CheckRunnable reports what this engine refuses to run in a configuration that
// rules.Load accepted (today: time-based rules), so that `ruleflow check` judges a
// file exactly as Open and Reload do.
func CheckRunnable(cfg *rules.Config) error { return refuseTimeRules(cfg) }
