package rules

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ruleflow/ruleflow/qualification"
)

// A callback function does what the rules that name it (form: <api_name>,
// events: [callback]) do, and may carry a rule of its own: a condition on its
// arguments and the callouts it fires — the ServiceDesk Plus "custom function"
// behind the URL. Functions created through the HTTP API can only act this way,
// since the configuration file's rules cannot name them. The loader and the API
// judge a function with the same code: declareCallbacks (api_name, parameters,
// callout_fields) and callbackRules (condition and callouts, judged as a rule's).

// CallbackRuleName is the name of the rule a callback function's own condition and
// callouts become.
func CallbackRuleName(apiName string) string { return "callback function " + apiName }

// callbackRules judges the conditions and callouts of fns and returns the rules
// they become, one per function that names callouts.
func (d *decoder) callbackRules(cfg *Config, fns []*CallbackFunction) []*Rule {
	var out []*Rule
	for _, f := range fns {
		switch {
		case d.has(f, "callouts") && len(f.Callouts) == 0:
			d.errAt(f, "callouts", "callback function %q: callouts must name at least one callout", f.APIName)
			continue
		case len(f.Callouts) == 0:
			if strings.TrimSpace(f.Condition) != "" {
				d.errAt(f, "condition", "callback function %q has a condition but no callouts: give it callouts to fire", f.APIName)
			}
			continue
		}
		r := &Rule{Name: CallbackRuleName(f.APIName), Form: f.APIName, Events: []Kind{KindCallback}, Condition: f.Condition, Callouts: f.Callouts}
		// The rule's errors are the function's: put them at its keys.
		for _, k := range []string{"", "condition"} {
			if n := d.node(f, k); n != nil {
				d.nodes[nodeKey{r, k}] = n
			}
		}
		for i := range f.Callouts {
			k := "callouts[" + strconv.Itoa(i) + "]"
			if n, ok := d.nodes[nodeKey{f, k}]; ok {
				d.nodes[nodeKey{r, k}] = n
			}
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil
	}
	judged := *cfg
	judged.Rules = out
	d.declareRules(&judged)
	return out
}

// CheckCallbackFunction judges a callback function to be created or replaced
// through the HTTP API against c, the configuration file: exactly as the loader
// judges the file's functions (its api_name, parameters and callout_fields; its
// condition, compiled against the parameters, and callouts, as a rule's), and its
// api_name must not be one of the file's. Errors are an ErrorList; a condition
// error is positioned in the condition string ("condition:1:9: …").
func (c *Config) CheckCallbackFunction(f *CallbackFunction) error {
	_, err := c.compileCallbackFunctions([]*CallbackFunction{f}, false)
	return err
}

// WithCallbackFunctions returns a new Config that holds c's callback functions
// followed by extra (those created at run time), each judged as by
// CheckCallbackFunction; api_names must be unique. c is not changed.
func (c *Config) WithCallbackFunctions(extra []*CallbackFunction) (*Config, error) {
	if c.idx == nil {
		return nil, ErrorList{{Msg: "WithCallbackFunctions on a Config that was not built by Load or Parse"}}
	}
	if len(extra) == 0 {
		return c, nil
	}
	return c.compileCallbackFunctions(extra, true)
}

func (c *Config) compileCallbackFunctions(extra []*CallbackFunction, label bool) (*Config, error) {
	if c.idx == nil {
		return nil, ErrorList{{Msg: "CheckCallbackFunction on a Config that was not built by Load or Parse"}}
	}
	nc := *c
	idx := *c.idx
	idx.callbacks = maps.Clone(c.idx.callbacks)
	idx.schemas = maps.Clone(c.idx.schemas)
	nc.idx = &idx
	var errs ErrorList
	var rules []*Rule
	for _, f := range extra {
		prefix := ""
		if label {
			prefix = "callback function " + strconv.Quote(f.APIName) + ": "
		}
		d := newDecoder(newSource("", nil), nil)
		if _, dup := idx.callbacks[f.APIName]; dup {
			if _, inFile := c.idx.callbacks[f.APIName]; inFile {
				errs.Add(Position{}, prefix+fmt.Sprintf("api_name %q is a callback function of the configuration file", f.APIName))
			} else {
				errs.Add(Position{}, prefix+fmt.Sprintf("duplicate api_name %q", f.APIName))
			}
			continue
		}
		d.declareCallback(&idx, f)
		if len(d.errs) > 0 { // no rule to judge on a function that is not declared
			delete(idx.callbacks, f.APIName)
			delete(idx.schemas, f.APIName)
			errs = append(errs, prefixed(prefix, d.errs)...)
			continue
		}
		rs := d.callbackRules(&nc, []*CallbackFunction{f})
		jobs := d.jobs
		d.jobs = nil
		for _, j := range jobs { // compiled here to position errors in the condition string
			p, err := qualification.Compile(j.cond, j.opts)
			if err != nil {
				for _, qe := range qualErrors(err) {
					d.errs = append(d.errs, conditionError(j.cond, qe))
				}
				continue
			}
			j.set(p)
		}
		if len(d.errs) > 0 {
			delete(idx.callbacks, f.APIName)
			delete(idx.schemas, f.APIName)
			errs = append(errs, prefixed(prefix, d.errs)...)
			continue
		}
		rules = append(rules, rs...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	nc.Callbacks = append(slices.Clip(c.Callbacks), extra...)
	idx.callbackRules = append(slices.Clip(c.idx.callbackRules), rules...)
	idx.rules = indexRules(c.Rules, idx.webhookRules, idx.callbackRules)
	return &nc, nil
}

// prefixed returns errs with prefix before each message.
func prefixed(prefix string, errs ErrorList) ErrorList {
	out := make(ErrorList, len(errs))
	for i, e := range errs {
		out[i] = &Error{Pos: e.Pos, Msg: prefix + e.Msg, Excerpt: e.Excerpt}
	}
	return out
}

// textProblem describes what makes s unfit to be stored and shown as text (a NUL
// byte, invalid UTF-8), or returns "".
func textProblem(key, s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return key + " must not contain a NUL byte"
	case !utf8.ValidString(s):
		return key + " must be valid UTF-8"
	}
	return ""
}

// CallbackRules returns the rules of the callback functions' own callouts.
func (c *Config) CallbackRules() []*Rule {
	if c.idx == nil {
		return nil
	}
	return c.idx.callbackRules
}
