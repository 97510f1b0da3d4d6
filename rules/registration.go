package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
)

// TargetCall is an outbound HTTP call a target URL makes to the external product
// (the Freshworks seed's onAppInstall / onAppUninstall handlers): register, when an
// installation is created through POST /v1/targets, so the product starts posting to
// the installation's URL; deregister, when the installation is revoked. The URL and
// the body are Go text/templates over a RegisterData (register) or a DeregisterData
// (deregister). The calls are outbox jobs, retried like callouts by Retry and sent
// through the egress guard.
//
//	target_urls:
//	  - name: jira
//	    public_url: https://ruleflow.example.com
//	    register:
//	      url: https://jira.example.com/rest/webhooks/1.0/webhook
//	      headers: {X-Api-Key: {value: "${JIRA_KEY}", secret: true}}
//	      body: '{"name": "ruleflow", "url": {{json .TargetURL}}}'
//	      id_path: self
//	    deregister:
//	      method: DELETE
//	      url: 'https://jira.example.com/rest/webhooks/1.0/webhook/{{pathescape .RegistrationID}}'
type TargetCall struct {
	URL           string   `yaml:"url" json:"url"`                           // text/template
	Method        string   `yaml:"method,omitempty" json:"method,omitempty"` // GET, POST (default), PUT, PATCH or DELETE
	Headers       Headers  `yaml:"headers,omitempty" json:"headers,omitempty"`
	SecretHeaders []string `yaml:"-" json:"secret_headers,omitempty"` // names of the headers written {value, secret: true}
	Username      string   `yaml:"username,omitempty" json:"username,omitempty"`
	Password      Secret   `yaml:"password,omitempty" json:"password,omitempty"`
	Body          string   `yaml:"body,omitempty" json:"body,omitempty"` // text/template
	// IDPath is where the registration ID is in the JSON response of a register
	// call: dotted keys, a number indexing an array ("id", "data.webhook.id",
	// "webhooks.0.id"). Empty: no ID is kept.
	IDPath  string   `yaml:"id_path,omitempty" json:"id_path,omitempty"`
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"` // default 20s
	Retry   Retry    `yaml:"retry,omitempty" json:"retry,omitempty"`     // as a callout's

	url, body *template.Template // compiled by the loader
}

func (c *TargetCall) setSecretHeaders(names []string) { c.SecretHeaders = names }

// RegisterData is what the templates of a register call see.
type RegisterData struct {
	// TargetURL is the installation's absolute URL: the target's public_url (or the
	// scheme and host POST /v1/targets was called on) followed by /hooks/<token>.
	TargetURL string
	// InstallationID is the installation's ID (tgt_…), as POST /v1/targets answered.
	InstallationID string
	// Target is the target URL's name.
	Target string
	// Iparams are the target's iparams overlaid with the installation's.
	Iparams map[string]any
}

// DeregisterData is what the templates of a deregister call see.
type DeregisterData struct {
	RegisterData
	// RegistrationID is the ID the register call's response held at id_path; empty
	// when the target has no register call or no id_path.
	RegistrationID string
}

// The target call methods.
var targetCallMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// targetCallFuncs are the functions a target call template may use besides the
// text/template builtins: json writes a value as JSON (a string quoted and escaped),
// pathescape escapes a URL path segment.
var targetCallFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"pathescape": func(s string) string { return url.PathEscape(s) },
}

// RenderedCall is a target call with its templates executed.
type RenderedCall struct {
	Method string
	URL    string
	Header map[string]string
	Body   []byte
}

// Render executes the call's templates on data (a RegisterData or a
// DeregisterData) and returns the request to send. A body without a Content-Type
// header is sent as application/json. The URL must render to an absolute http or
// https URL. Errors never contain the rendered values.
func (c *TargetCall) Render(data any) (RenderedCall, error) {
	ut, bt := c.url, c.body
	if ut == nil || bt == nil { // built in code rather than loaded
		var err error
		if ut, bt, err = c.compile(); err != nil {
			return RenderedCall{}, err
		}
	}
	var u, body bytes.Buffer
	if err := ut.Execute(&u, data); err != nil {
		return RenderedCall{}, fmt.Errorf("url: %s", templateMessage(err))
	}
	if msg := urlProblem(u.String()); msg != "" {
		return RenderedCall{}, errors.New("url: the rendered URL: " + msg)
	}
	if err := bt.Execute(&body, data); err != nil {
		return RenderedCall{}, fmt.Errorf("body: %s", templateMessage(err))
	}
	out := RenderedCall{Method: c.method(), URL: u.String(), Header: make(map[string]string, len(c.Headers)+1), Body: body.Bytes()}
	hasType := false
	for k, v := range c.Headers {
		out.Header[k] = v
		hasType = hasType || strings.EqualFold(k, "Content-Type")
	}
	if len(out.Body) > 0 && !hasType {
		out.Header["Content-Type"] = "application/json"
	}
	return out, nil
}

// method is the call's method, POST when unset.
func (c *TargetCall) method() string {
	if m := strings.ToUpper(strings.TrimSpace(c.Method)); m != "" {
		return m
	}
	return DefaultMethod
}

// compile parses the URL and body templates.
func (c *TargetCall) compile() (u, b *template.Template, err error) {
	if u, err = template.New("url").Funcs(targetCallFuncs).Parse(c.URL); err != nil {
		return nil, nil, fmt.Errorf("url: %s", templateMessage(err))
	}
	if b, err = template.New("body").Funcs(targetCallFuncs).Parse(c.Body); err != nil {
		return nil, nil, fmt.Errorf("body: %s", templateMessage(err))
	}
	return u, b, nil
}

// RegistrationIDAt returns the value at path (see TargetCall.IDPath) of the JSON
// document body, as text: a string as it is, a number as written, true/false. It
// fails, saying where the path ends, when body is not JSON or the path holds no
// string, number or boolean.
func RegistrationIDAt(body []byte, path string) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", errors.New("the response is not JSON")
	}
	at := ""
	for _, seg := range strings.Split(path, ".") {
		at = strings.TrimPrefix(at+"."+seg, ".")
		switch x := v.(type) {
		case map[string]any:
			c, ok := x[seg]
			if !ok {
				return "", fmt.Errorf("the response has no %s", at)
			}
			v = c
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return "", fmt.Errorf("the response has no %s", at)
			}
			v = x[i]
		default:
			return "", fmt.Errorf("the response has no %s", at)
		}
	}
	switch x := v.(type) {
	case string:
		if x == "" {
			return "", fmt.Errorf("the response's %s is empty", path)
		}
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	case nil:
		return "", fmt.Errorf("the response's %s is null", path)
	}
	return "", fmt.Errorf("the response's %s is not a string or a number", path)
}

// templateLine finds the position in a text/template error: "template: body:3:12: …"
// or "template: body:3: …".
var templateLine = regexp.MustCompile(`^template: [a-z]+:(\d+)(?::(\d+))?: `)

// templateMessage is a template error without its "template: name:line:col:"
// prefix (the caller positions it).
func templateMessage(err error) string {
	return templateLine.ReplaceAllString(err.Error(), "")
}

// templateOffset returns the byte offset in text of the position a template error
// names, or 0.
func templateOffset(text string, err error) int {
	m := templateLine.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	line, _ := strconv.Atoi(m[1])
	col := -1 // text/template counts columns from 0; a parse error names a line only
	if m[2] != "" {
		col, _ = strconv.Atoi(m[2])
	}
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(text[off:], '\n')
		if i < 0 {
			return off
		}
		off += i + 1
	}
	end := strings.IndexByte(text[off:], '\n')
	if end < 0 {
		end = len(text) - off
	}
	if col < 0 { // the line's first non-blank byte
		col = len(text[off:off+end]) - len(strings.TrimLeft(text[off:off+end], " \t"))
	}
	return off + min(col, end)
}

// sampleTargetURL and the other sample values are what the loader executes a
// target call's templates on, so that a template that fails on every installation
// (an unknown field) is a check error.
const (
	sampleTargetURL      = "https://ruleflow.example.com/hooks/sample-token"
	sampleInstallationID = "tgt_sample"
	sampleRegistrationID = "sample-registration-id"
)

// checkTargetCalls judges a target URL's public_url, register and deregister
// calls: their keys, method, headers, secrets, timeout and retry, and their
// templates, parsed and executed on sample data, with the error positioned inside
// the template.
func (d *decoder) checkTargetCalls(t *TargetURL) {
	if t.PublicURL != "" || d.has(t, "public_url") {
		if msg := urlProblem(t.PublicURL); msg != "" {
			d.errAt(t, "public_url", "target URL %q: public_url: %s", t.Name, msg)
		} else if u, _ := url.Parse(t.PublicURL); (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			d.errAt(t, "public_url", "target URL %q: public_url must be a scheme and host only (the path /hooks/<token> is added)", t.Name)
		}
	}
	data := RegisterData{TargetURL: sampleTargetURL, InstallationID: sampleInstallationID, Target: t.Name, Iparams: t.Iparams}
	if c := t.Register; c != nil {
		d.checkTargetCall(t, "register", c, data)
		if c.IDPath != "" {
			for _, seg := range strings.Split(c.IDPath, ".") {
				if seg == "" {
					d.errAt(c, "id_path", "target URL %q: register id_path %q has an empty segment (want dotted keys such as data.webhook.id)", t.Name, c.IDPath)
					break
				}
			}
		}
	}
	if c := t.Deregister; c != nil {
		d.checkTargetCall(t, "deregister", c, DeregisterData{RegisterData: data, RegistrationID: sampleRegistrationID})
		if d.has(c, "id_path") {
			d.errAt(c, "id_path", "target URL %q: id_path is only used by register (deregister is offered the registered ID as {{.RegistrationID}})", t.Name)
		}
	}
}

// checkTargetCall judges one call of target t; which is "register" or "deregister".
func (d *decoder) checkTargetCall(t *TargetURL, which string, c *TargetCall, data any) {
	what := fmt.Sprintf("target URL %q: %s", t.Name, which)
	m := strings.ToUpper(strings.TrimSpace(c.Method))
	switch {
	case m == "":
		c.Method = DefaultMethod
	case !slices.Contains(targetCallMethods, m):
		d.errAt(c, "method", "%s: unsupported method %q (want %s)", what, c.Method, strings.Join(targetCallMethods, ", "))
	default:
		c.Method = m
	}
	if c.Method == "GET" && c.Body != "" {
		d.errAt(c, "body", "%s: method GET sends no body", what)
	}
	for _, p := range headerProblems(c.Headers, true) {
		d.errAt(c, p.path, "%s: %s", what, p.msg)
	}
	if c.Password != "" && c.Username == "" {
		d.errAt(c, "password", "%s: password is set but username is empty", what)
	}
	d.checkSecret(c, "password", c.Password)
	if c.Timeout == 0 {
		if d.has(c, "timeout") {
			d.errAt(c, "timeout", "%s: timeout must be positive", what)
		}
		c.Timeout = Duration(DefaultTimeout)
	}
	d.checkRetryBlock(&c.Retry)

	for _, part := range []struct {
		key, text string
		parse     func() (*template.Template, error)
	}{
		{"url", c.URL, func() (*template.Template, error) { return template.New("url").Funcs(targetCallFuncs).Parse(c.URL) }},
		{"body", c.Body, func() (*template.Template, error) { return template.New("body").Funcs(targetCallFuncs).Parse(c.Body) }},
	} {
		if part.key == "url" && strings.TrimSpace(c.URL) == "" {
			if d.has(c, "url") {
				d.errAt(c, "url", "%s: url must not be empty", what)
			}
			continue
		}
		tmpl, err := part.parse()
		if err == nil {
			var out bytes.Buffer
			if err = tmpl.Execute(&out, data); err == nil && part.key == "url" {
				if msg := urlProblem(out.String()); msg != "" {
					d.errAt(c, "url", "%s url: %s", what, msg)
				}
			}
		}
		if err != nil {
			msg := templateMessage(err)
			if strings.Contains(msg, "RegistrationID") && which == "register" {
				msg += " (RegistrationID is known to deregister only)"
			}
			d.errorAtPos(d.valuePos(d.node(c, part.key), templateOffset(part.text, err)), "%s %s: %s", what, part.key, msg)
			continue
		}
		if part.key == "url" {
			c.url = tmpl
		} else {
			c.body = tmpl
		}
	}
}

// MarshalJSON writes the call with the values of its secret headers masked (its
// password masks itself), so no JSON view of a configuration shows them.
func (c TargetCall) MarshalJSON() ([]byte, error) {
	type plain TargetCall // without this method
	p := plain(c)
	p.Headers = MaskHeaders(c.Headers, c.SecretHeaders)
	return json.Marshal(p)
}
