package rules

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ruleflow/ruleflow/qualification"
)

// CompileWebhook validates a webhook registered at run time (through the HTTP API)
// against c and returns the rule it becomes. It checks the form, events, payload
// fields, callback URL and authentication, and compiles the condition. Errors are an
// ErrorList; a condition error is positioned in the condition string
// ("condition:1:9: unknown field 'Stauts'" with a caret excerpt). The webhook ID is
// not checked here; WithWebhooks checks it.
func (c *Config) CompileWebhook(w *Webhook) (*Rule, error) {
	var errs ErrorList
	form, problems := c.webhookProblems(w, true)
	for _, p := range problems {
		msg := p.msg
		if p.owner != w {
			msg = "callback: " + msg
		}
		errs.Add(Position{}, msg)
	}

	var prog *qualification.Program
	if form != nil && strings.TrimSpace(w.Condition) != "" {
		p, err := qualification.Compile(w.Condition, qualification.Options{
			Schema: form.Schema, Nulls: c.NullMode, CaseInsensitive: c.CaseInsensitive, Location: c.location(),
		})
		if err != nil {
			for _, qe := range qualErrors(err) {
				errs = append(errs, conditionError(w.Condition, qe))
			}
		}
		prog = p
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return webhookRule(w, prog), nil
}

// ownedProblem is a problem of a value below owner (a *Webhook, its
// *WebhookCallback or its *WebhookAuthentication).
type ownedProblem struct {
	owner any
	problem
}

// webhookProblems judges a webhook, for the loader and for CompileWebhook alike:
// its form, events and payload fields, the callout it becomes (URL and headers, by
// the callout judge) and its authentication. api is true for a registration
// through the HTTP API. It returns the webhook's form when it is declared.
func (c *Config) webhookProblems(w *Webhook, api bool) (*Form, []ownedProblem) {
	var out []ownedProblem
	add := func(owner any, path, msg string) { out = append(out, ownedProblem{owner, problem{path, msg}}) }
	form, ok := c.Form(w.FormName)
	switch {
	case strings.TrimSpace(w.FormName) == "":
		add(w, "form_name", "form_name must not be empty")
	case !ok:
		var names []string
		for _, f := range c.Forms {
			names = append(names, f.Name)
		}
		add(w, "form_name", fmt.Sprintf("form_name %q is not a declared form%s", w.FormName, didYouMean(w.FormName, names)))
	}
	if len(w.EntryEvents) == 0 {
		add(w, "entry_events", "entry_events must name at least one event")
	}
	for _, p := range kindProblems("entry_events", w.EntryEvents, false) {
		add(w, p.path, p.msg)
	}
	if form != nil {
		for i, p := range w.PayloadFields {
			if _, ok := form.Schema.Field(p); !ok {
				add(w, "payload_fields["+strconv.Itoa(i)+"]", fmt.Sprintf("payload field %q is not a field of form %q", p, form.Name))
			}
		}
	}
	for _, p := range c.judge(webhookRule(w, nil).Targets[0]) {
		add(&w.Callback, p.path, p.msg)
	}
	for _, p := range authProblems(&w.Callback.Authentication) {
		add(&w.Callback.Authentication, p.path, p.msg)
	}
	if msg := enumFormatProblem(w.EnumFormat, FormatJSON); msg != "" {
		add(w, "enum_format", msg)
	}
	return form, out
}

// conditionError positions a qualification error in a condition string.
func conditionError(cond string, qe *qualification.Error) *Error {
	src := newSource("condition", []byte(cond))
	pos := src.position(min(max(qe.Offset, 0), len(cond)))
	return src.errorAt(pos, qe.Msg)
}

// WithWebhooks returns a new Config that holds c's webhooks followed by extra (the
// webhooks registered at run time). c is not changed. Each extra webhook is checked
// as by CompileWebhook; webhook IDs must be unique, and so must the combination of
// form, events and callback URL (the AR System unique index).
func (c *Config) WithWebhooks(extra []*Webhook) (*Config, error) {
	if c.idx == nil {
		return nil, ErrorList{{Msg: "WithWebhooks on a Config that was not built by Load or Parse"}}
	}
	var errs ErrorList
	ids := map[string]bool{}
	keys := map[string]string{}
	for _, w := range c.Webhooks {
		ids[w.WebhookID] = true
		keys[webhookKey(w)] = w.WebhookID
	}
	rules := slices.Clone(c.idx.webhookRules)
	for i, w := range extra {
		label := "webhook " + strconv.Quote(w.WebhookID)
		if w.WebhookID == "" {
			label = "webhook " + strconv.Itoa(i+1)
			errs.Add(Position{}, label+": webhook_id must not be empty")
		} else if ids[w.WebhookID] {
			errs.Add(Position{}, fmt.Sprintf("%s: duplicate webhook_id", label))
		}
		ids[w.WebhookID] = true
		if first, dup := keys[webhookKey(w)]; dup {
			errs.Add(Position{}, fmt.Sprintf("%s duplicates webhook %q: same form, events and callback URL", label, first))
		} else {
			keys[webhookKey(w)] = w.WebhookID
		}
		r, err := c.CompileWebhook(w)
		if err != nil {
			for _, e := range err.(ErrorList) {
				errs = append(errs, &Error{Pos: e.Pos, Msg: label + ": " + e.Msg, Excerpt: e.Excerpt})
			}
			continue
		}
		rules = append(rules, r)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	nc := *c
	nc.Webhooks = append(slices.Clip(c.Webhooks), extra...)
	idx := *c.idx
	idx.webhookRules = rules
	idx.rules = indexRules(c.Rules, rules, c.idx.callbackRules)
	nc.idx = &idx
	return &nc, nil
}
