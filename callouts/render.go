// Package callouts turns a callout definition and an event into an HTTP request and
// delivers it.
//
// Rendering (Render) happens when the event is handled: the request is built from the
// values as of the save and stored as bytes in the engine's outbox, so delivery never
// re-reads the ticket. Four wire formats exist (design §5): name-value, SOAP 1.1,
// XML-RPC and the AR System webhook JSON (multipart/form-data when attachments are
// sent). Sending (Sender.Send) performs one attempt and classifies the outcome;
// Policy decides when the next attempt runs.
//
// Empty and NULL values are written the same way in the three Autotask formats, as an
// empty value: "udf=" in name-value, an empty element <udf></udf> in SOAP, and an
// empty string member <string></string> in XML-RPC. The JSON format distinguishes
// them: NULL is null and an empty text is "".
package callouts

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ruleflow/ruleflow/qualification"
	"github.com/ruleflow/ruleflow/rules"
)

// Request is a rendered callout: everything needed to send it, stored as bytes in
// the outbox. Header never holds credentials: the Authorization header is added by
// Sender.Send from the credentials it is given.
type Request struct {
	Method string            `json:"method"`
	URL    string            `json:"url"`
	Header map[string]string `json:"header,omitempty"` // Content-Type, SOAPAction, custom headers — never Authorization
	Body   []byte            `json:"body,omitempty"`
}

// DateTimeLayout is how date-times are written in callout payloads: the configured
// zone with seven fraction digits, as in 2021-11-20T10:43:34.9030000-05:00.
const DateTimeLayout = "2006-01-02T15:04:05.0000000-07:00"

// DateLayout is how values of date fields are written.
const DateLayout = "2006-01-02"

// The names of the standard callout data, in wire order (design §5).
const (
	StdID                   = "id"
	StdNumber               = "number"
	StdStatus               = "status"
	StdCreatedDatetime      = "created_datetime"
	StdLastActivityDatetime = "last_activity_datetime"
	StdDomain               = "domain"
	StdUDF                  = "udf"
)

// stdValue is one item of the standard data. Null is true when the source field is
// NULL, missing or unmapped.
type stdValue struct {
	Name  string
	Value string
	Null  bool
	// Int is set for the id when its value is an integer.
	Int   int64
	IsInt bool
}

// renderer holds what every encoder needs for one callout and one event.
type renderer struct {
	cfg    *rules.Config
	c      *rules.Callout
	ev     *rules.Event
	form   *rules.Form
	schema *qualification.Schema
	loc    *time.Location
	rec    rules.Record
}

// Render builds the HTTP request for callout c fired by event ev under configuration
// cfg. The body is encoded in c.Format; standard data is read through the event
// form's callout_fields from ev.Current(). Render does not look at c.Active or the
// UDF filter: deciding whether to fire is the engine's job.
func Render(cfg *rules.Config, c *rules.Callout, ev *rules.Event) (*Request, error) {
	if c == nil {
		return nil, fmt.Errorf("render: no callout")
	}
	if ev == nil {
		return nil, fmt.Errorf("callout %q: render: no event", c.Name)
	}
	r := newRenderer(cfg, c, ev)
	req, u, err := r.request()
	if err != nil {
		return nil, err
	}
	switch c.Format {
	case rules.FormatNameValue:
		err = r.nameValue(req, u)
	case rules.FormatSOAP:
		err = r.soap(req)
	case rules.FormatXMLRPC:
		err = r.xmlrpc(req)
	case rules.FormatJSON:
		err = r.json(req)
	default:
		err = r.errorf("unknown format %q (want name-value, soap, xmlrpc or json)", c.Format)
	}
	if err != nil {
		return nil, err
	}
	return req, nil
}

// request checks what the callout's definition says of every request — method,
// URL, custom headers — and returns a request holding them, with the parsed URL.
func (r *renderer) request() (*Request, *url.URL, error) {
	c := r.c
	method := strings.ToUpper(strings.TrimSpace(c.Method))
	if method == "" {
		method = "POST"
	}
	if method != "GET" && method != "POST" {
		return nil, nil, r.errorf("method %q is not GET or POST", c.Method)
	}
	if method == "GET" && c.Format != rules.FormatNameValue {
		return nil, nil, r.errorf("method GET needs format name-value, not %q", c.Format)
	}
	u, err := checkURL(c.URL)
	if err != nil {
		return nil, nil, r.errorf("%v", err)
	}
	header, err := r.customHeaders()
	if err != nil {
		return nil, nil, err
	}
	return &Request{Method: method, URL: c.URL, Header: header}, u, nil
}

// newRenderer prepares the rendering of callout c for event ev under cfg (nil: an
// empty configuration), looking up the event's form.
func newRenderer(cfg *rules.Config, c *rules.Callout, ev *rules.Event) renderer {
	if cfg == nil {
		cfg = &rules.Config{}
	}
	r := renderer{cfg: cfg, c: c, ev: ev, loc: cfg.Location, rec: ev.Current()}
	if r.loc == nil {
		r.loc = time.UTC
	}
	if f, ok := cfg.Form(ev.Form); ok {
		r.form = f
	} else {
		// A configuration built in code rather than by rules.Load has no index.
		for _, f := range cfg.Forms {
			if f != nil && f.Name == ev.Form {
				r.form = f
				break
			}
		}
	}
	if r.form != nil {
		r.schema = r.form.Schema
	}
	return r
}

func (r *renderer) errorf(format string, args ...any) error {
	return fmt.Errorf("callout %q: "+format, append([]any{r.c.Name}, args...)...)
}

// checkURL parses an outbound URL and refuses what must never be sent: schemes other
// than http and https, and credentials embedded in the URL. Errors never repeat the
// URL, which could hold a password.
func checkURL(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, fmt.Errorf("no URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err
		}
		return nil, fmt.Errorf("invalid URL: %v", err)
	}
	if u.User != nil {
		return nil, fmt.Errorf("URL must not embed credentials (user:pass@); set username and password instead")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("URL scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("URL has no host")
	}
	return u, nil
}

// forbiddenHeader reports whether a header may not be configured as a custom header,
// and why: credentials are never stored with a rendered request, and framing headers
// are the HTTP client's job.
func forbiddenHeader(canon string) (why string, bad bool) {
	switch canon {
	case "Authorization", "Proxy-Authorization":
		return "credentials are never stored with a request; set username and password", true
	case "Content-Length":
		return "it is computed from the body", true
	case "Transfer-Encoding", "Connection":
		return "it is managed by the HTTP client", true
	case "Host":
		return "it is taken from the URL", true
	}
	return "", false
}

func (r *renderer) customHeaders() (map[string]string, error) {
	h := make(map[string]string, len(r.c.Headers)+2)
	for k, v := range r.c.Headers {
		if !validHeaderName(k) {
			return nil, r.errorf("invalid header name %q", k)
		}
		canon := canonicalHeader(k)
		if why, bad := forbiddenHeader(canon); bad {
			return nil, r.errorf("header %q may not be set: %s", canon, why)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return nil, r.errorf("header %q: value contains a line break or NUL", canon)
		}
		h[canon] = v
	}
	return h, nil
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// canonicalHeader is textproto.CanonicalMIMEHeaderKey without the import.
func canonicalHeader(s string) string {
	b := []byte(s)
	upper := true
	for i, c := range b {
		if upper && 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			b[i] = c - 'A' + 'a'
		}
		upper = c == '-'
	}
	return string(b)
}

// field returns the schema entry for name (a field name, or a numeric field ID),
// or nil when the form has no schema or no such field.
func (r *renderer) field(name string) *qualification.Field {
	if r.schema == nil || name == "" {
		return nil
	}
	if f, ok := r.schema.Field(name); ok {
		return f
	}
	if id, err := strconv.ParseInt(name, 10, 64); err == nil {
		if f, ok := r.schema.FieldByID(id); ok {
			return f
		}
	}
	return nil
}

// fieldName resolves a configured field reference (name or numeric ID) to the
// record key.
func (r *renderer) fieldName(name string) string {
	if f := r.field(name); f != nil {
		return f.Name
	}
	return name
}

// text formats a record value as text for the Autotask formats and for JSON
// strings. ok is false for NULL.
func (r *renderer) text(v any, f *qualification.Field) (s string, ok bool) {
	switch v := v.(type) {
	case nil:
		return "", false
	case string:
		return v, true
	case int64:
		if f != nil && f.Type == qualification.Selection && v >= 0 && v < int64(len(f.Options)) {
			return f.Options[v], true
		}
		return strconv.FormatInt(v, 10), true
	case int:
		return r.text(int64(v), f)
	case int32:
		return r.text(int64(v), f)
	case float64:
		return formatFloat(v), true
	case float32:
		return formatFloat(float64(v)), true
	case bool:
		return strconv.FormatBool(v), true
	case time.Time:
		if f != nil && f.Type == qualification.Date {
			return v.In(r.loc).Format(DateLayout), true
		}
		return v.In(r.loc).Format(DateTimeLayout), true
	case *rules.Attachment:
		if v == nil {
			return "", false
		}
		return v.Name, true
	case rules.Attachment:
		return v.Name, true
	default:
		return fmt.Sprint(v), true
	}
}

func formatFloat(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// fieldText returns the text of the record field named by a configured reference.
// A datetime stored as text (RFC 3339) is normalised to DateTimeLayout.
func (r *renderer) fieldText(ref string) (string, bool) {
	if ref == "" {
		return "", false
	}
	f := r.field(ref)
	name := ref
	if f != nil {
		name = f.Name
	}
	v := r.rec[name]
	if s, isStr := v.(string); isStr && f != nil && f.Type == qualification.DateTime {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			v = t
		}
	}
	return r.text(v, f)
}

// stdData is the standard callout data in wire order: id, number, status,
// created_datetime, last_activity_datetime, domain, udf. A fixed array, so that
// rendering does not allocate for it.
type stdData [7]stdValue

// standard returns the standard callout data in wire order (design §5).
func (r *renderer) standard() (stdData, error) {
	var cf rules.CalloutFields
	if r.form != nil {
		cf = r.form.CalloutFields
	}
	var out stdData

	id := stdValue{Name: StdID}
	if cf.ID != "" {
		id.Value, id.Null = r.fieldText(cf.ID)
		id.Null = !id.Null
		if n, isInt := r.rec[r.fieldName(cf.ID)].(int64); isInt {
			id.Int, id.IsInt = n, true
		}
	} else {
		// Without a mapping the entry ID identifies the record.
		id.Value, id.Null = r.ev.EntryID, r.ev.EntryID == ""
	}
	if !id.Null && !id.IsInt {
		s := strings.TrimSpace(id.Value)
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			if cf.ID != "" {
				return out, r.errorf("id field %q: value %q is not an integer", cf.ID, id.Value)
			}
			return out, r.errorf("entry_id %q is not an integer and the form maps no id field", id.Value)
		}
		id.Int, id.IsInt, id.Value = n, true, strconv.FormatInt(n, 10)
	}
	out[0] = id

	for i, m := range [...]struct{ name, ref string }{
		{StdNumber, cf.Number},
		{StdStatus, cf.Status},
		{StdCreatedDatetime, cf.CreatedDatetime},
		{StdLastActivityDatetime, cf.LastActivityDatetime},
	} {
		out[1+i] = r.stdText(m.name, m.ref)
	}
	out[5] = stdValue{Name: StdDomain, Value: r.cfg.Domain, Null: r.cfg.Domain == ""}
	out[6] = r.stdText(StdUDF, r.c.UDF)
	return out, nil
}

// stdText is the standard item name read from the field ref.
func (r *renderer) stdText(name, ref string) stdValue {
	v, ok := r.fieldText(ref)
	return stdValue{Name: name, Value: v, Null: !ok}
}
