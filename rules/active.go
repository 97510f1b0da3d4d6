package rules

import "maps"

// WithActive returns a Config like c in which the callouts named in callouts and
// the rules named in rules have the active flag given there instead of the
// file's (the management API's overrides). Names c does not declare are ignored,
// as are the callouts and rules of AR webhooks (a webhook has its own enabled
// flag). c is not changed; with no override that applies it returns c itself.
func (c *Config) WithActive(callouts, rules map[string]bool) *Config {
	if c.idx == nil || len(callouts) == 0 && len(rules) == 0 {
		return c
	}
	nc := *c
	idx := *c.idx
	copied := map[*Callout]*Callout{}
	nc.Callouts = make([]*Callout, len(c.Callouts))
	for i, co := range c.Callouts {
		nc.Callouts[i] = co
		if a, ok := callouts[co.Name]; ok && a != co.IsActive() {
			cp := *co
			cp.Active = &a
			copied[co] = &cp
			nc.Callouts[i] = &cp
		}
	}
	if len(copied) > 0 {
		idx.callouts = maps.Clone(c.idx.callouts)
		for name, co := range idx.callouts {
			if cp, ok := copied[co]; ok {
				idx.callouts[name] = cp
			}
		}
	}
	changed := len(copied) > 0
	nc.Rules = make([]*Rule, len(c.Rules))
	for i, r := range c.Rules {
		nc.Rules[i] = r
		var targets []*Callout
		for k, t := range r.Targets {
			if cp, ok := copied[t]; ok {
				if targets == nil {
					targets = append([]*Callout(nil), r.Targets...)
				}
				targets[k] = cp
			}
		}
		a, ok := rules[r.Name]
		ok = ok && a != r.IsActive()
		if targets == nil && !ok {
			continue
		}
		cp := *r
		if targets != nil {
			cp.Targets = targets
		}
		if ok {
			cp.Active = &a
		}
		nc.Rules[i] = &cp
		changed = true
	}
	if !changed {
		return c
	}
	idx.rules = indexRules(nc.Rules, idx.webhookRules)
	nc.idx = &idx
	return &nc
}
