package rules

import (
	"errors"
	"fmt"
	"maps"
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
	resources    *resourceIndex
	webhookRules []*Rule
	// callbackRules are the rules of the callback functions' own callouts.
	callbackRules []*Rule
	rules         map[formKind][]*Rule
}

// build validates the decoded configuration, applies defaults, compiles conditions
// and indexes the rules, recording every problem in d.errs. Like go/types' checker
// it takes one kind of declaration at a time (declare.go), in dependency order:
// forms and callouts before the rules that name them.
func (d *decoder) build(cfg *Config) {
	cfg.idx = &index{
		forms:     map[string]*Form{},
		callouts:  map[string]*Callout{},
		callbacks: map[string]*CallbackFunction{},
		targets:   map[string]*TargetURL{},
		schemas:   map[string]*qualification.Schema{},
	}
	d.checkSettings(cfg)
	d.declareResources(cfg)
	d.declareForms(cfg)
	d.declareCallouts(cfg)
	d.declareCallbacks(cfg)
	d.declareTargets(cfg)
	d.declareRules(cfg)
	d.declareWebhooks(cfg)
	d.checkNotifications(cfg)
	d.compileAll()
	cfg.idx.rules = indexRules(cfg.Rules, cfg.idx.webhookRules, cfg.idx.callbackRules)
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
	orderRules(m)
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
		SecretHeaders: w.Callback.SecretHeaders,
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
	d.errAt(r, "form", "unknown form %q%s", r.Form, didYouMean(r.Form, slices.Sorted(maps.Keys(idx.forms))))
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
		case inbound && (k == KindCallback || k == KindExternal || k == KindTime):
		case inbound:
			out = append(out, problem{p, fmt.Sprintf("unknown event kind %q (want create, update, delete, callback, external or time)", k)})
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
	d.qualErrorsAt(d.node(owner, "condition"), "invalid condition", err)
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

// checkCallout applies a callout's defaults, checks what only the file can say
// (timeout, retry, notify, secrets' form) and reports what the judge finds.
func (d *decoder) checkCallout(cfg *Config, c *Callout) {
	if m := strings.ToUpper(c.Method); m == "GET" || m == "POST" {
		c.Method = m
	} else if c.Method == "" {
		c.Method = DefaultMethod
	}
	d.positionLimits(c)
	d.reportJudged(c, cfg.judge(c), c.URL)
	if msg := enumFormatProblem(c.EnumFormat, c.Format); msg != "" {
		d.errAt(c, "enum_format", "%s", msg)
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
	if c.Notify != nil {
		d.checkNotify(c.Notify)
	}
}

// checkRetry validates a callout's retry policy and applies its defaults.
func (d *decoder) checkRetry(c *Callout) { d.checkRetryBlock(&c.Retry) }

// checkRetryBlock validates a retry block (a callout's, a target call's) and
// applies its defaults.
func (d *decoder) checkRetryBlock(r *Retry) {
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
	// The entries are checked by checkNotifications, once resources and rules are known.
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

// checkHeaders validates the extra HTTP header names and values of the notes
// endpoint (a callout's are judged by judgeCallout).
func (d *decoder) checkHeaders(owner any, h map[string]string) {
	for _, p := range headerProblems(h, false) {
		d.errAt(owner, p.path, "%s", p.msg)
	}
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
	for _, e := range cf.Entries() {
		if e.Field == "" {
			continue
		}
		if _, ok := f.Schema.Field(e.Field); !ok {
			d.errAt(cf, e.Key, "callout_fields %s: %q is not a field of form %q%s", e.Key, e.Field, f.Name, didYouMean(e.Field, fieldNames(f.Schema)))
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
	for _, name := range slices.Sorted(maps.Keys(f.Parameters)) {
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

// validIdent reports whether s is an identifier: a letter or underscore, then
// letters, digits and underscores (an api_name, a parameter, an environment variable).
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
		if dist := qualification.EditDistance(strings.ToLower(name), strings.ToLower(c)); dist < bestDist && dist < len(name) {
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
