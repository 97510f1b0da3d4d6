package rules

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ruleflow/ruleflow/qualification"
)

// This file holds one function per kind of declaration of a configuration, each
// registering its names through declare, the one path for empty and duplicate
// names, and judging what it declares. build calls them in order.

// declare registers name for owner in seen, or reports why it cannot: empty (or,
// when valid is set, refused by it) or already declared. what names the key in
// messages ("callout name"). It reports whether name was registered.
func declare[T any](d *decoder, seen map[string]T, owner T, key, what, name string, valid func(string) string) bool {
	if valid != nil {
		if msg := valid(name); msg != "" {
			d.errAt(owner, key, "%s", msg)
			return false
		}
	} else if strings.TrimSpace(name) == "" {
		d.errAt(owner, key, "%s must not be empty", what)
		return false
	}
	if first, dup := seen[name]; dup {
		d.errAt(owner, key, "duplicate %s %q (first defined on line %d)", what, name, d.pos(d.node(first, key)).Line)
		return false
	}
	seen[name] = owner
	return true
}

// reportJudged records a judge's problems of owner. A problem with no node to put it
// at (owner did not decode: a list entry that is not a mapping) or of an empty url
// whose key is absent is left out: decoding reported it already.
func (d *decoder) reportJudged(owner any, problems []problem, url string) {
	for _, p := range problems {
		if d.node(owner, p.path) == nil || p.path == "url" && url == "" && !d.has(owner, "url") {
			continue
		}
		d.errAt(owner, p.path, "%s", p.msg)
	}
}

// checkSettings checks the top-level settings: version, timezone, nulls, smtp and
// the notes endpoint.
func (d *decoder) checkSettings(cfg *Config) {
	if d.has(cfg, "version") && cfg.Version != 1 {
		d.errAt(cfg, "version", "unsupported version %d (want 1)", cfg.Version)
	}
	cfg.Location = time.UTC
	if cfg.Timezone != "" {
		loc, err := time.LoadLocation(cfg.Timezone)
		if err != nil || strings.EqualFold(cfg.Timezone, "local") {
			d.errAt(cfg, "timezone", "unknown timezone %q (want an IANA name such as America/New_York or UTC)", cfg.Timezone)
		} else {
			cfg.Location = loc
		}
	}
	mode, err := qualification.ParseNullMode(cfg.Nulls)
	if err != nil {
		d.errAt(cfg, "nulls", "%v", err)
	}
	cfg.NullMode = mode
	if cfg.SMTP != nil {
		d.checkSMTP(cfg.SMTP)
	}
	d.checkEgress(cfg.Egress)
	d.checkBreaker(cfg.Breaker)
	d.checkHistory(cfg.History)
	d.checkTelemetry(cfg.Telemetry)
	if cfg.Notes != nil {
		d.checkURL(cfg.Notes, "url", cfg.Notes.URL)
		d.checkHeaders(cfg.Notes, cfg.Notes.Headers)
		d.checkSecret(cfg.Notes, "password", cfg.Notes.Password)
	}
	if cfg.Lookup != nil {
		d.checkURL(cfg.Lookup, "url", cfg.Lookup.URL)
		d.checkHeaders(cfg.Lookup, cfg.Lookup.Headers)
		d.checkSecret(cfg.Lookup, "password", cfg.Lookup.Password)
	}
}

// declareForms indexes the forms (their names are map keys, unique by syntax) and
// checks their callout_fields.
func (d *decoder) declareForms(cfg *Config) {
	for _, f := range cfg.Forms {
		cfg.idx.forms[f.Name] = f
		d.checkCalloutFields(f)
	}
	d.checkFormRenamedFrom(cfg, cfg.idx.forms)
}

// declareCallouts declares and judges the callouts.
func (d *decoder) declareCallouts(cfg *Config) {
	for _, c := range cfg.Callouts {
		declare(d, cfg.idx.callouts, c, "name", "callout name", c.Name, nil)
		d.checkCallout(cfg, c)
	}
	d.checkRenamedFrom(cfg, cfg.idx.callouts)
}

// declareCallbacks declares the callback functions and builds their schemas.
func (d *decoder) declareCallbacks(cfg *Config) {
	for _, f := range cfg.Callbacks {
		d.declareCallback(cfg.idx, f)
	}
	cfg.idx.callbackRules = d.callbackRules(cfg, cfg.Callbacks)
}

// declareCallback declares one callback function in idx and builds its schema; the
// loader and CheckCallbackFunction (API writes) both judge a function with it.
func (d *decoder) declareCallback(idx *index, f *CallbackFunction) {
	declare(d, idx.callbacks, f, "api_name", "callback function api_name", f.APIName, apiNameProblem)
	if msg := textProblem("description", f.Description); msg != "" {
		d.errAt(f, "description", "%s", msg)
	}
	if s := d.checkCallback(f); s != nil {
		idx.schemas[f.APIName] = s
	}
	d.checkCallbackCalloutFields(f)
}

// apiNameProblem describes what is wrong with a callback function's api_name.
func apiNameProblem(name string) string {
	if validIdent(name) {
		return ""
	}
	return "invalid api_name " + strconv.Quote(name) + " (want letters, digits and underscores, not starting with a digit)"
}

// declareTargets declares the external-event target URLs.
func (d *decoder) declareTargets(cfg *Config) {
	for _, t := range cfg.Targets {
		declare(d, cfg.idx.targets, t, "name", "target URL name", t.Name, nil)
		d.checkTargetCalloutFields(t)
		d.checkTargetRegion(t)
		d.checkTargetCalls(t)
	}
}

// declareRules declares the rules, resolves their forms and callouts, checks the
// UDFs of the callouts they fire and queues their conditions for compilation.
func (d *decoder) declareRules(cfg *Config) {
	idx := cfg.idx
	names := map[string]*Rule{}
	udfChecked := map[[2]string]bool{}
	for _, r := range cfg.Rules {
		declare(d, names, r, "name", "rule name", r.Name, nil)
		schema, formOK := d.checkRuleForm(cfg, r)
		mode := cfg.NullMode
		if r.Nulls != "" {
			m, err := qualification.ParseNullMode(r.Nulls)
			if err != nil {
				d.errAt(r, "nulls", "%v", err)
			}
			mode = m
		}
		if d.has(r, "callouts") && len(r.Callouts) == 0 {
			d.errAt(r, "callouts", "rule %q has no callouts", r.Name)
		}
		seen := map[string]bool{}
		for i, name := range r.Callouts {
			path := "callouts[" + strconv.Itoa(i) + "]"
			c, ok := idx.callouts[name]
			switch {
			case !ok:
				d.errAt(r, path, "unknown callout %q%s", name, didYouMean(name, slices.Sorted(maps.Keys(idx.callouts))))
				continue
			case seen[name]:
				d.errAt(r, path, "callout %q is listed twice", name)
				continue
			}
			seen[name] = true
			r.Targets = append(r.Targets, c)
			if key := [2]string{c.Name, r.Form}; c.UDF != "" && formOK && schema != nil && !udfChecked[key] {
				udfChecked[key] = true
				d.checkUDF(c, r, schema)
			}
		}
		d.checkTimeRule(r, schema, formOK)
		if formOK {
			d.compileLater(cfg, r, r.Condition, schema, mode, func(p *qualification.Program) { r.Program = p })
		}
		d.checkActions(r, schema, formOK, qualification.Options{Schema: schema, Nulls: mode, CaseInsensitive: cfg.CaseInsensitive, Location: cfg.location()})
	}
}

// declareWebhooks declares the file's AR webhooks, judges each as CompileWebhook
// judges a registration (webhookProblems), and turns each into its rule.
func (d *decoder) declareWebhooks(cfg *Config) {
	ids := map[string]*Webhook{}
	uniq := map[string]*Webhook{}
	for _, w := range cfg.Webhooks {
		declare(d, ids, w, "webhook_id", "webhook_id", w.WebhookID, nil)
		if first, dup := uniq[webhookKey(w)]; dup {
			d.errAt(w, "webhook_id", "webhook %q duplicates webhook %q: same form, events and callback URL", w.WebhookID, first.WebhookID)
		} else {
			uniq[webhookKey(w)] = w
		}
		form, problems := cfg.webhookProblems(w, false)
		for _, p := range problems {
			if p.owner == w && p.path == "entry_events" && !d.has(w, "entry_events") {
				continue // reported as a missing required key
			}
			d.reportJudged(p.owner, []problem{p.problem}, w.Callback.URL)
		}
		d.checkSecret(&w.Callback.Authentication, "password", w.Callback.Authentication.Password)
		wr := webhookRule(w, nil)
		if form != nil {
			d.compileLater(cfg, w, w.Condition, form.Schema, cfg.NullMode, func(p *qualification.Program) { wr.Program = p })
		}
		cfg.idx.webhookRules = append(cfg.idx.webhookRules, wr)
	}
}
