package rules

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ruleflow/ruleflow/qualification"
)

// Defaults applied by Parse.
const (
	DefaultMethod  = "POST"
	DefaultTimeout = 20 * time.Second
	DefaultSMTPTLS = "starttls" // the port then defaults to 587 (465 for tls, 25 for none)
	// MaxCallbackParameters is how many parameters a callback function may declare.
	MaxCallbackParameters = 10
)

// formKind is the key of the rule index.
type formKind struct {
	form string
	kind Kind
}

// index holds the lookups of a Config. It is built once and never changed.
type index struct {
	forms        map[string]*Form
	callouts     map[string]*Callout
	callbacks    map[string]*CallbackFunction
	targets      map[string]*TargetURL
	schemas      map[string]*qualification.Schema // callback functions' parameter schemas
	webhookRules []*Rule
	rules        map[formKind][]*Rule
}

// build validates the decoded configuration, applies defaults, compiles conditions
// and indexes the rules, recording every problem in d.errs.
func (d *decoder) build(cfg *Config) {
	idx := &index{
		forms:     map[string]*Form{},
		callouts:  map[string]*Callout{},
		callbacks: map[string]*CallbackFunction{},
		targets:   map[string]*TargetURL{},
		schemas:   map[string]*qualification.Schema{},
	}
	cfg.idx = idx

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
	if cfg.Notes != nil {
		d.checkURL(cfg.Notes, "url", cfg.Notes.URL)
		d.checkHeaders(cfg.Notes, cfg.Notes.Headers)
		d.checkSecret(cfg.Notes, "password", cfg.Notes.Password)
	}

	for _, f := range cfg.Forms {
		idx.forms[f.Name] = f // names are unique: duplicate keys are syntax errors
		d.checkCalloutFields(f)
	}
	d.checkFormRenamedFrom(cfg, idx.forms)

	for _, c := range cfg.Callouts {
		if c.Name == "" {
			d.errAt(c, "name", "callout name must not be empty")
		} else if first, dup := idx.callouts[c.Name]; dup {
			d.errAt(c, "name", "duplicate callout name %q (first defined on line %d)", c.Name, d.pos(d.node(first, "name")).Line)
		} else {
			idx.callouts[c.Name] = c
		}
		d.checkCallout(c)
	}
	d.checkRenamedFrom(cfg, idx.callouts)

	for _, f := range cfg.Callbacks {
		if !validIdent(f.APIName) {
			d.errAt(f, "api_name", "invalid api_name %q (want letters, digits and underscores, not starting with a digit)", f.APIName)
		} else if first, dup := idx.callbacks[f.APIName]; dup {
			d.errAt(f, "api_name", "duplicate callback function api_name %q (first defined on line %d)", f.APIName, d.pos(d.node(first, "api_name")).Line)
		} else {
			idx.callbacks[f.APIName] = f
		}
		if s := d.checkCallback(f); s != nil {
			idx.schemas[f.APIName] = s
		}
	}

	for _, t := range cfg.Targets {
		if strings.TrimSpace(t.Name) == "" {
			d.errAt(t, "name", "target URL name must not be empty")
		} else if first, dup := idx.targets[t.Name]; dup {
			d.errAt(t, "name", "duplicate target URL name %q (first defined on line %d)", t.Name, d.pos(d.node(first, "name")).Line)
		} else {
			idx.targets[t.Name] = t
		}
		d.checkTargetRegion(t)
	}

	ruleNames := map[string]*Rule{}
	udfChecked := map[[2]string]bool{}
	for _, r := range cfg.Rules {
		if strings.TrimSpace(r.Name) == "" {
			d.errAt(r, "name", "rule name must not be empty")
		} else if first, dup := ruleNames[r.Name]; dup {
			d.errAt(r, "name", "duplicate rule name %q (first defined on line %d)", r.Name, d.pos(d.node(first, "name")).Line)
		} else {
			ruleNames[r.Name] = r
		}
		schema, formOK := d.checkRuleForm(cfg, r)
		rmode := cfg.NullMode
		if r.Nulls != "" {
			m, err := qualification.ParseNullMode(r.Nulls)
			if err != nil {
				d.errAt(r, "nulls", "%v", err)
			}
			rmode = m
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
				d.errAt(r, path, "unknown callout %q%s", name, didYouMean(name, mapKeys(idx.callouts)))
				continue
			case seen[name]:
				d.errAt(r, path, "callout %q is listed twice", name)
				continue
			}
			seen[name] = true
			r.Targets = append(r.Targets, c)
			if c.UDF != "" && formOK && schema != nil && !udfChecked[[2]string{c.Name, schema.Name}] {
				udfChecked[[2]string{c.Name, schema.Name}] = true
				d.checkUDF(c, r, schema)
			}
		}
		if formOK {
			d.compileLater(cfg, r, r.Condition, schema, rmode, func(p *qualification.Program) { r.Program = p })
		}
	}

	webhookIDs := map[string]*Webhook{}
	uniq := map[string]*Webhook{}
	for _, w := range cfg.Webhooks {
		if strings.TrimSpace(w.WebhookID) == "" {
			d.errAt(w, "webhook_id", "webhook_id must not be empty")
		} else if first, dup := webhookIDs[w.WebhookID]; dup {
			d.errAt(w, "webhook_id", "duplicate webhook_id %q (first defined on line %d)", w.WebhookID, d.pos(d.node(first, "webhook_id")).Line)
		} else {
			webhookIDs[w.WebhookID] = w
		}
		key := webhookKey(w)
		if first, dup := uniq[key]; dup {
			d.errAt(w, "webhook_id", "webhook %q duplicates webhook %q: same form, events and callback URL", w.WebhookID, first.WebhookID)
		} else {
			uniq[key] = w
		}
		form, ok := idx.forms[w.FormName]
		if !ok {
			d.errAt(w, "form_name", "webhook form_name %q is not a declared form%s", w.FormName, didYouMean(w.FormName, mapKeys(idx.forms)))
		}
		d.checkKinds(w, "entry_events", w.EntryEvents, false)
		if form != nil {
			for i, p := range w.PayloadFields {
				if _, ok := form.Schema.Field(p); !ok {
					d.errAt(w, "payload_fields["+strconv.Itoa(i)+"]", "payload field %q is not a field of form %q", p, form.Name)
				}
			}
		}
		d.checkURL(&w.Callback, "url", w.Callback.URL)
		d.checkHeaders(&w.Callback, w.Callback.Headers)
		d.checkWebhookAuth(&w.Callback.Authentication)
		if msg := enumFormatProblem(w.EnumFormat, FormatJSON); msg != "" {
			d.errAt(w, "enum_format", "%s", msg)
		}
		wr := webhookRule(w, nil)
		if form != nil {
			d.compileLater(cfg, w, w.Condition, form.Schema, cfg.NullMode, func(p *qualification.Program) { wr.Program = p })
		}
		idx.webhookRules = append(idx.webhookRules, wr)
	}
	d.compileAll()
	idx.rules = indexRules(cfg.Rules, idx.webhookRules)
}

// indexRules groups rules by (form, kind), keeping their order.
func indexRules(rules ...[]*Rule) map[formKind][]*Rule {
	m := map[formKind][]*Rule{}
	for _, rs := range rules {
		for _, r := range rs {
			seen := map[Kind]bool{}
			for _, k := range r.Events {
				if seen[k] {
					continue
				}
				seen[k] = true
				key := formKind{r.Form, k}
				m[key] = append(m[key], r)
			}
		}
	}
	return m
}

// webhookKey is the AR unique index of a webhook: form, events and callback URL.
func webhookKey(w *Webhook) string {
	ev := make([]string, 0, len(w.EntryEvents))
	for _, k := range w.EntryEvents {
		ev = append(ev, string(k))
	}
	sort.Strings(ev)
	ev = slices.Compact(ev)
	return w.FormName + "\x00" + strings.Join(ev, ",") + "\x00" + w.Callback.URL
}

// webhookRule turns an AR webhook into the rule the engine runs: the webhook's form,
// events and condition, firing one JSON callout to the callback URL.
func webhookRule(w *Webhook, prog *qualification.Program) *Rule {
	active := w.IsEnabled()
	c := &Callout{
		Name:          "webhook " + w.WebhookID,
		URL:           w.Callback.URL,
		Method:        "POST",
		Format:        FormatJSON,
		Timeout:       Duration(DefaultTimeout),
		Retry:         Retry{Interval: Duration(DefaultRetryInterval), Max: intPtr(DefaultRetryMax)},
		Headers:       w.Callback.Headers,
		PayloadFields: w.PayloadFields,
		WebhookID:     w.WebhookID,
		EnumFormat:    w.enumFormat(),
	}
	if strings.EqualFold(w.Callback.Authentication.Type, "basic") {
		c.Username = w.Callback.Authentication.Username
		c.Password = w.Callback.Authentication.Password
	}
	return &Rule{
		Name:      "webhook " + w.WebhookID,
		Active:    &active,
		Form:      w.FormName,
		Events:    w.EntryEvents,
		Condition: w.Condition,
		Callouts:  []string{c.Name},
		Program:   prog,
		Targets:   []*Callout{c},
		Webhook:   w,
	}
}

func intPtr(i int) *int { return &i }

// checkRuleForm checks a rule's form and events and returns the schema its condition
// binds to (nil: dynamically typed) and whether the form could be resolved.
func (d *decoder) checkRuleForm(cfg *Config, r *Rule) (*qualification.Schema, bool) {
	idx := cfg.idx
	d.checkKinds(r, "events", r.Events, true)
	if r.Form == "" {
		if d.has(r, "form") {
			d.errAt(r, "form", "rule %q: form must not be empty", r.Name)
		}
		return nil, false
	}
	if f, ok := idx.forms[r.Form]; ok {
		return f.Schema, true
	}
	if f, ok := d.ruleFormRenamed(cfg, r); ok {
		return f.Schema, true
	}
	inbound := len(r.Events) > 0
	for _, k := range r.Events {
		if k != KindCallback && k != KindExternal {
			inbound = false
		}
	}
	if inbound {
		for _, k := range r.Events {
			switch k {
			case KindCallback:
				if _, ok := idx.callbacks[r.Form]; ok {
					return idx.schemas[r.Form], true
				}
			case KindExternal:
				if _, ok := idx.targets[r.Form]; ok {
					return nil, true
				}
			}
		}
		d.errAt(r, "form", "unknown form %q: not a declared form, callback function api_name or target URL name", r.Form)
		return nil, false
	}
	d.errAt(r, "form", "unknown form %q%s", r.Form, didYouMean(r.Form, mapKeys(idx.forms)))
	return nil, false
}

// problem is one invalid value: path names it below its owner ("events[1]").
type problem struct{ path, msg string }

// checkKinds checks a list of event kinds; inbound allows callback and external.
func (d *decoder) checkKinds(owner any, path string, kinds []Kind, inbound bool) {
	if d.has(owner, path) && len(kinds) == 0 {
		d.errAt(owner, path, "%s must name at least one event", path)
	}
	for _, p := range kindProblems(path, kinds, inbound) {
		d.errAt(owner, p.path, "%s", p.msg)
	}
}

// kindProblems reports unknown and repeated kinds in the list at path.
func kindProblems(path string, kinds []Kind, inbound bool) []problem {
	var out []problem
	seen := map[Kind]bool{}
	for i, k := range kinds {
		p := path + "[" + strconv.Itoa(i) + "]"
		switch {
		case k == KindCreate || k == KindUpdate || k == KindDelete:
		case inbound && (k == KindCallback || k == KindExternal):
		case inbound:
			out = append(out, problem{p, fmt.Sprintf("unknown event kind %q (want create, update, delete, callback or external)", k)})
			continue
		default:
			out = append(out, problem{p, fmt.Sprintf("unknown event kind %q (want create, update or delete)", k)})
			continue
		}
		if seen[k] {
			out = append(out, problem{p, fmt.Sprintf("event %q is listed twice", k)})
		}
		seen[k] = true
	}
	return out
}

// checkUDF checks that the UDF of callout c is a character field of the schema of
// rule r, which uses c.
func (d *decoder) checkUDF(c *Callout, r *Rule, schema *qualification.Schema) {
	f, ok := schema.Field(c.UDF)
	if !ok {
		d.errAt(c, "udf", "udf %q is not a field of form %q (the callout is used by rule %q)", c.UDF, schema.Name, r.Name)
		return
	}
	if f.Type != qualification.Character {
		d.errAt(c, "udf", "udf %q is %s field of form %q; a UDF must be a character field (the callout is used by rule %q)", c.UDF, article(f.Type.String()), schema.Name, r.Name)
	}
}

// compileJob is one condition to compile; set receives the program.
type compileJob struct {
	owner any
	cond  string
	opts  qualification.Options
	set   func(*qualification.Program)
	prog  *qualification.Program
	err   error
}

// compileLater queues the condition of owner (a *Rule or *Webhook) for compileAll.
func (d *decoder) compileLater(cfg *Config, owner any, cond string, schema *qualification.Schema, mode qualification.NullMode, set func(*qualification.Program)) {
	if strings.TrimSpace(cond) == "" {
		return
	}
	d.jobs = append(d.jobs, &compileJob{owner: owner, cond: cond, set: set, opts: qualification.Options{
		Schema: schema, Nulls: mode, CaseInsensitive: cfg.CaseInsensitive, Location: cfg.location(),
	}})
}

// compileAll compiles the queued conditions, in parallel on large configurations, and
// reports each qualification error at its position inside the YAML scalar.
func (d *decoder) compileAll() {
	jobs := d.jobs
	d.jobs = nil
	workers := min(runtime.GOMAXPROCS(0), len(jobs)/64+1)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(jobs) {
					return
				}
				j := jobs[i]
				j.prog, j.err = qualification.Compile(j.cond, j.opts)
			}
		})
	}
	wg.Wait()
	for _, j := range jobs {
		if j.err == nil {
			j.set(j.prog)
			continue
		}
		d.conditionErrors(j.owner, j.err)
	}
}

// conditionErrors reports a compile error of owner's condition at the offending
// token inside the YAML scalar.
func (d *decoder) conditionErrors(owner any, err error) {
	n := d.resolve(d.node(owner, "condition"))
	var idx []int
	if text, isString, ok := scalarText(n); ok && isString && d.lookupEnv != nil {
		_, idx, _ = expandEnv(text, d.lookupEnv)
	}
	for _, qe := range qualErrors(err) {
		off := qe.Offset
		if idx != nil {
			if off < len(idx) {
				off = idx[off]
			} else if len(idx) > 0 {
				off = idx[len(idx)-1] + 1
			}
		}
		d.errorAtPos(d.valuePos(n, off), "invalid condition: %s", qe.Msg)
	}
}

// qualErrors returns the positioned errors of a qualification compile error.
func qualErrors(err error) []*qualification.Error {
	var list qualification.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		return list
	}
	var one *qualification.Error
	if errors.As(err, &one) {
		return []*qualification.Error{one}
	}
	return []*qualification.Error{{Msg: err.Error(), Source: ""}}
}

// checkCallout validates one callout and applies its defaults.
func (d *decoder) checkCallout(c *Callout) {
	d.checkURL(c, "url", c.URL)
	if c.Method == "" {
		c.Method = DefaultMethod
	} else if m := strings.ToUpper(c.Method); m == "GET" || m == "POST" {
		c.Method = m
	} else {
		d.errAt(c, "method", "unsupported method %q (want GET or POST)", c.Method)
	}
	switch c.Format {
	case FormatNameValue, FormatSOAP, FormatXMLRPC, FormatJSON:
	case "":
		if d.has(c, "format") {
			d.errAt(c, "format", "format must not be empty (want name-value, soap, xmlrpc or json)")
		}
	default:
		d.errAt(c, "format", "unknown format %q (want name-value, soap, xmlrpc or json)", c.Format)
	}
	if (c.Format == FormatSOAP || c.Format == FormatXMLRPC) && c.MethodName == "" {
		d.errAt(c, "format", "format %s needs method_name", c.Format)
	}
	if c.Format == FormatSOAP && c.SOAPAction == "" {
		d.errAt(c, "format", "format soap needs soap_action")
	}
	if msg := enumFormatProblem(c.EnumFormat, c.Format); msg != "" {
		d.errAt(c, "enum_format", "%s", msg)
	}
	if c.SOAPAction != "" && c.Format != FormatSOAP && c.Format != "" {
		d.errAt(c, "soap_action", "soap_action is only used with format soap (this callout is %s)", c.Format)
	}
	if c.Method == "GET" && c.Format != FormatNameValue && c.Format != "" {
		d.errAt(c, "method", "method GET sends only format name-value; format %s needs POST", c.Format)
	}
	if c.Password != "" && c.Username == "" {
		d.errAt(c, "password", "password is set but username is empty")
	}
	d.checkSecret(c, "password", c.Password)
	d.checkSecret(c, "signing_secret", c.SigningSecret)
	if c.Timeout == 0 {
		if d.has(c, "timeout") {
			d.errAt(c, "timeout", "timeout must be positive")
		}
		c.Timeout = Duration(DefaultTimeout)
	}
	d.checkRetry(c)
	d.checkHeaders(c, c.Headers)
	if c.Notify != nil {
		d.checkNotify(c.Notify)
	}
	if len(c.PayloadFields) > 0 && c.Format != FormatJSON {
		d.errAt(c, "payload_fields", "payload_fields are only used with format json")
	}
}

// checkRetry validates a callout's retry policy and applies its defaults.
func (d *decoder) checkRetry(c *Callout) {
	r := &c.Retry
	if r.Interval == 0 && !d.has(r, "interval") {
		r.Interval = Duration(DefaultRetryInterval)
	} else if r.Interval.Std() < MinRetryInterval {
		d.errAt(r, "interval", "retry interval %s is too short (minimum 1s)", r.Interval)
	}
	if r.Max == nil {
		r.Max = intPtr(DefaultRetryMax)
	} else if *r.Max < 0 || *r.Max > 1000 {
		d.errAt(r, "max", "retry max %d is out of range (want 0 to 1000 more attempts)", *r.Max)
	}
	switch r.Backoff {
	case "", "fixed":
		if d.has(r, "max_interval") {
			d.errAt(r, "max_interval", "max_interval is only used with backoff exponential")
		}
	case "exponential":
		if r.MaxInterval != 0 && r.MaxInterval < r.Interval {
			d.errAt(r, "max_interval", "max_interval %s is shorter than the interval %s", r.MaxInterval, r.Interval)
		}
	default:
		d.errAt(r, "backoff", "unknown backoff %q (want fixed or exponential)", r.Backoff)
	}
}

// checkNotify validates a notification block.
func (d *decoder) checkNotify(n *Notify) {
	if d.has(n, "to") && len(n.To) == 0 {
		d.errAt(n, "to", "notify needs at least one recipient in to")
	}
	for i, addr := range n.To {
		if _, err := mail.ParseAddress(addr); err != nil {
			d.errAt(n, "to["+strconv.Itoa(i)+"]", "invalid e-mail address %q: %s", addr, strings.TrimPrefix(err.Error(), "mail: "))
		}
	}
	if n.Subject != "" && n.SubjectFile != "" {
		d.errAt(n, "subject_file", "set subject or subject_file, not both")
	}
	if n.Body != "" && n.BodyFile != "" {
		d.errAt(n, "body_file", "set body or body_file, not both")
	}
}

// defaultSMTPPort is the usual submission port of a tls mode.
func defaultSMTPPort(tls string) int {
	switch tls {
	case "tls":
		return 465
	case "none":
		return 25
	}
	return 587
}

// checkSMTP validates the mail settings and applies their defaults.
func (d *decoder) checkSMTP(s *SMTP) {
	if d.has(s, "host") && strings.TrimSpace(s.Host) == "" {
		d.errAt(s, "host", "smtp host must not be empty")
	}
	switch s.TLS {
	case "":
		s.TLS = DefaultSMTPTLS
	case "none", "starttls", "tls":
	default:
		d.errAt(s, "tls", "unknown tls mode %q (want none, starttls or tls)", s.TLS)
	}
	if s.Port == 0 && !d.has(s, "port") {
		s.Port = defaultSMTPPort(s.TLS)
	} else if s.Port < 1 || s.Port > 65535 {
		d.errAt(s, "port", "smtp port %d is out of range (want 1 to 65535)", s.Port)
	}
	if d.has(s, "from") {
		if _, err := mail.ParseAddress(s.From); err != nil {
			d.errAt(s, "from", "invalid e-mail address %q: %s", s.From, strings.TrimPrefix(err.Error(), "mail: "))
		}
	}
	if s.Password != "" && s.Username == "" {
		d.errAt(s, "password", "password is set but username is empty")
	}
	d.checkSecret(s, "password", s.Password)
}

// checkSecret checks the form of an encrypted secret without revealing it.
func (d *decoder) checkSecret(owner any, path string, s Secret) {
	if s.IsEncrypted() && !strings.HasPrefix(s.Reveal(), EncryptedPrefix) {
		d.errAt(owner, path, "unsupported encrypted secret format (want %s...)", EncryptedPrefix)
	}
}

// checkURL reports a URL that is not an absolute http(s) URL or that embeds
// credentials. The URL is not repeated in the message, so no secret leaks.
func (d *decoder) checkURL(owner any, path, raw string) {
	if msg := urlProblem(raw); msg != "" && (raw != "" || d.has(owner, path)) {
		d.errAt(owner, path, "%s", msg)
	}
}

// urlProblem describes what is wrong with a callout URL, or returns "".
func urlProblem(raw string) string {
	if strings.TrimSpace(raw) == "" {
		return "url must not be empty"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "invalid URL (want an absolute http or https URL such as https://rmm.example.com/api)"
	}
	if u.User != nil {
		return "the URL must not contain credentials; use username and password instead"
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Sprintf("unsupported URL scheme %q (want http or https)", u.Scheme)
	}
	if u.Host == "" {
		return "the URL has no host (want an absolute http or https URL)"
	}
	return ""
}

// checkHeaders validates extra HTTP header names and values.
func (d *decoder) checkHeaders(owner any, h map[string]string) {
	for _, p := range headerProblems(h) {
		d.errAt(owner, p.path, "%s", p.msg)
	}
}

// headerProblems reports invalid header names and values, in name order.
func headerProblems(h map[string]string) []problem {
	var out []problem
	for _, name := range slices.Sorted(mapKeysOf(h)) {
		if !validHeaderName(name) {
			out = append(out, problem{"headers." + name + "#key", fmt.Sprintf("invalid header name %q", name)})
		}
		if strings.ContainsAny(h[name], "\r\n") {
			out = append(out, problem{"headers." + name, fmt.Sprintf("header %q: value must not contain line breaks", name)})
		}
	}
	return out
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c > 0x7e || c <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			return false
		}
	}
	return true
}

// checkWebhookAuth validates a webhook callback's authentication.
func (d *decoder) checkWebhookAuth(a *WebhookAuthentication) {
	for _, p := range authProblems(a) {
		d.errAt(a, p.path, "%s", p.msg)
	}
	d.checkSecret(a, "password", a.Password)
}

// authProblems reports an unknown authentication type or missing credentials.
func authProblems(a *WebhookAuthentication) []problem {
	switch {
	case a.Type == "" || strings.EqualFold(a.Type, "none"):
		if a.Username != "" || a.Password != "" {
			return []problem{{"type", "username and password need authentication type basic"}}
		}
	case strings.EqualFold(a.Type, "basic"):
		if a.Username == "" {
			return []problem{{"username", "basic authentication needs a username"}}
		}
	default:
		return []problem{{"type", fmt.Sprintf("unknown authentication type %q (want none or basic)", a.Type)}}
	}
	return nil
}

// checkCalloutFields checks that a form's callout_fields name fields of the form.
func (d *decoder) checkCalloutFields(f *Form) {
	cf := &f.CalloutFields
	for _, e := range []struct{ key, name string }{
		{"id", cf.ID}, {"number", cf.Number}, {"status", cf.Status},
		{"created_datetime", cf.CreatedDatetime}, {"last_activity_datetime", cf.LastActivityDatetime},
	} {
		if e.name == "" {
			continue
		}
		if _, ok := f.Schema.Field(e.name); !ok {
			d.errAt(cf, e.key, "callout_fields %s: %q is not a field of form %q%s", e.key, e.name, f.Name, didYouMean(e.name, fieldNames(f.Schema)))
		}
	}
}

// paramType maps a callback parameter type to the field type of its schema.
func paramType(s string) (qualification.FieldType, bool) {
	switch s {
	case "string", "map":
		return qualification.Character, true
	case "int":
		return qualification.Integer, true
	case "float":
		return qualification.Real, true
	case "bool":
		return qualification.Boolean, true
	case "date":
		return qualification.DateTime, true
	}
	return 0, false
}

// checkCallback validates a callback function and returns the schema of its
// parameters.
func (d *decoder) checkCallback(f *CallbackFunction) *qualification.Schema {
	if len(f.Parameters) > MaxCallbackParameters {
		d.errAt(f, "parameters", "callback function %q has %d parameters; at most %d are allowed", f.APIName, len(f.Parameters), MaxCallbackParameters)
	}
	var fields []qualification.Field
	for _, name := range slices.Sorted(mapKeysOf(f.Parameters)) {
		if !validIdent(name) {
			d.errAt(f, "parameters."+name+"#key", "invalid parameter name %q (want letters, digits and underscores)", name)
		}
		t, ok := paramType(f.Parameters[name])
		if !ok {
			d.errAt(f, "parameters."+name, "unknown parameter type %q for %q (want string, int, float, bool, date or map)", f.Parameters[name], name)
			t = qualification.Character
		}
		fields = append(fields, qualification.Field{Name: name, Type: t})
	}
	s, err := qualification.NewSchema(f.APIName, fields)
	if err != nil {
		return nil
	}
	return s
}

func validIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func mapKeysOf[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func mapKeys[V any](m map[string]V) []string { return slices.Sorted(mapKeysOf(m)) }

func fieldNames(s *qualification.Schema) []string {
	out := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		out[i] = f.Name
	}
	return out
}

// didYouMean returns `; did you mean "x"?` when a candidate is close to name.
func didYouMean(name string, candidates []string) string {
	best, bestDist := "", 2+len(name)/4 // accept up to 1 + len/4 edits
	for _, c := range candidates {
		if dist := editDistance(strings.ToLower(name), strings.ToLower(c)); dist < bestDist && dist < len(name) {
			best, bestDist = c, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// article prefixes a word with "a" or "an".
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}
