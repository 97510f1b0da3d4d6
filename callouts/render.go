package callouts

import (
	"fmt"
	"math"
	"net/textproto"
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
	// SecretHeaders names the custom headers marked secret: true, whose values
	// Masked hides.
	SecretHeaders []string `json:"secret_headers,omitempty"`
}

// DateTimeLayout is how date-times are written in callout payloads: the configured
// zone with seven fraction digits, as in 2021-11-20T10:43:34.9030000-05:00.
const DateTimeLayout = "2006-01-02T15:04:05.0000000-07:00"

// appendDateTime appends t.Format(DateTimeLayout) to b, written digit by digit
// rather than by interpreting the layout (a payload holds a few date-times, and
// Format was most of their cost). Years outside 0–9999, which Format writes with a
// sign or more digits, are left to it.
func appendDateTime(b []byte, t time.Time) []byte {
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, DateTimeLayout)
	}
	hour, minute, sec := t.Clock()
	_, offset := t.Zone()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/100, 7) // seven digits, truncated as Format does
	// "-07:00": the offset in whole minutes (rounded toward zero, as Format does),
	// "+" for zero.
	zone := offset / 60
	if zone < 0 {
		b = append(b, '-')
		zone = -zone
	} else {
		b = append(b, '+')
	}
	b = appendDigits(b, zone/60, 2)
	b = append(b, ':')
	return appendDigits(b, zone%60, 2)
}

// appendDigits appends the n low decimal digits of v ≥ 0, zero-padded.
func appendDigits(b []byte, v, n int) []byte {
	var d [8]byte
	for i := n - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:n]...)
}

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
	cf     rules.CalloutFields // of the event's form, callback function or target
	schema *qualification.Schema
	loc    *time.Location
	rec    rules.Record
}

// Render builds the HTTP request for callout c fired by event ev under configuration
// cfg. The body is encoded in c.Format; standard data is read from ev.Current()
// through the callout_fields of the event's source (rules.Config.CalloutSource):
// its form, or for inbound events its callback function or target URL. Render does not look at c.Active or the
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

// request judges the callout's definition (rules.CheckCallout, the one judge the
// loader and the API use, so only data-dependent errors remain after it) and
// returns a request holding what every request of it shares — method, URL, custom
// headers, the names of the secret ones — with the parsed URL.
func (r *renderer) request() (*Request, *url.URL, error) {
	c := r.c
	if err := rules.CheckCallout(c); err != nil {
		return nil, nil, r.errorf("%v", err)
	}
	method := strings.ToUpper(strings.TrimSpace(c.Method))
	if method == "" {
		method = "POST"
	}
	u, err := url.Parse(c.URL) // CheckCallout parsed it: no error
	if err != nil {
		return nil, nil, r.errorf("invalid URL: %v", err)
	}
	req := &Request{Method: method, URL: c.URL, Header: r.customHeaders(), SecretHeaders: c.SecretHeaders}
	return req, u, nil
}

// newRenderer prepares the rendering of callout c for event ev under cfg (nil: an
// empty configuration), looking up the callout_fields and schema of the event's
// source (rules.Config.CalloutSource).
func newRenderer(cfg *rules.Config, c *rules.Callout, ev *rules.Event) renderer {
	if cfg == nil {
		cfg = &rules.Config{}
	}
	r := renderer{cfg: cfg, c: c, ev: ev, loc: cfg.Location, rec: ev.Current()}
	if r.loc == nil {
		r.loc = time.UTC
	}
	if cf, schema, ok := cfg.CalloutSource(ev); ok {
		r.cf, r.schema = cf, schema
	} else {
		// A configuration built in code rather than by rules.Load has no index.
		for _, f := range cfg.Forms {
			if f != nil && f.Name == ev.Form {
				r.cf, r.schema = f.CalloutFields, f.Schema
				break
			}
		}
	}
	return r
}

func (r *renderer) errorf(format string, args ...any) error {
	return fmt.Errorf("callout %q: "+format, append([]any{r.c.Name}, args...)...)
}

// customHeaders returns the callout's extra headers under their canonical names
// (rules.CheckCallout has refused bad and forbidden ones).
func (r *renderer) customHeaders() map[string]string {
	h := make(map[string]string, len(r.c.Headers)+2)
	for k, v := range r.c.Headers {
		h[textproto.CanonicalMIMEHeaderKey(k)] = v
	}
	return h
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
		if f != nil && f.Type == qualification.Selection {
			if pos := f.OptionByValue(v); pos >= 0 {
				return f.Options[pos], true
			}
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
		var buf [len(DateTimeLayout)]byte // what a year of four digits needs
		return string(appendDateTime(buf[:0], v.In(r.loc))), true
	case *rules.Attachment:
		if v == nil {
			return "", false
		}
		return v.Name, true
	case rules.Attachment:
		return v.Name, true
	case *qualification.CurrencyValue:
		if v == nil {
			return "", false
		}
		return formatFloat(v.Value) + " " + v.Code, true
	case qualification.DiaryValue:
		return v.Text(), len(v) > 0
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
	v, f := r.fieldValue(ref)
	return r.text(v, f)
}

// fieldValue returns the value of the record field named by a configured
// reference, and its definition (nil when the schema has none). A datetime stored
// as text (RFC 3339) is returned as a time.Time.
func (r *renderer) fieldValue(ref string) (any, *qualification.Field) {
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
	return v, f
}

// appendText is text(v, f) for the values whose text is formatted (integers,
// date-times), appended to b (inB set) so that the standard data's values share
// one string; any other value's text is returned as s, b unchanged.
func (r *renderer) appendText(b []byte, v any, f *qualification.Field) (out []byte, s string, ok, inB bool) {
	switch v := v.(type) {
	case string:
		return b, v, true, false
	case int64:
		if f == nil || f.Type != qualification.Selection {
			return strconv.AppendInt(b, v, 10), "", true, true
		}
	case time.Time:
		if f == nil || f.Type != qualification.Date {
			return appendDateTime(b, v.In(r.loc)), "", true, true
		}
	}
	s, ok = r.text(v, f)
	return b, s, ok, false
}

// stdData is the standard callout data in wire order: id, number, status,
// created_datetime, last_activity_datetime, domain, udf. A fixed array, so that
// rendering does not allocate for it.
type stdData [7]stdValue

// standard returns the standard callout data in wire order (design §5). The
// values formatted from integers and date-times are written into one buffer and
// share one string.
func (r *renderer) standard() (stdData, error) {
	cf := r.cf
	var out stdData
	var scratch [160]byte // the id and two date-times take about 75
	b := scratch[:0]
	var inB [len(stdData{})]struct{ start, end int } // the values held in b
	put := func(i int, name, ref string) {
		out[i].Name = name
		if ref == "" {
			out[i].Null = true
			return
		}
		v, f := r.fieldValue(ref)
		if i == 0 {
			if n, isInt := v.(int64); isInt {
				out[0].Int, out[0].IsInt = n, true
			}
		}
		start := len(b)
		var ok, held bool
		b, out[i].Value, ok, held = r.appendText(b, v, f)
		out[i].Null = !ok
		if held {
			inB[i].start, inB[i].end = start, len(b)
		}
	}

	if cf.ID != "" {
		put(0, StdID, cf.ID)
	} else {
		// Without a mapping the entry ID identifies the record: a ticket's number,
		// or the call_… / ext_… ID of an inbound event.
		out[0] = stdValue{Name: StdID, Value: r.ev.EntryID, Null: r.ev.EntryID == ""}
	}
	entries := cf.Entries()
	for i, e := range entries[1:] { // number, status, created_datetime, last_activity_datetime
		put(1+i, e.Key, e.Field)
	}
	out[5] = stdValue{Name: StdDomain, Value: r.cfg.Domain, Null: r.cfg.Domain == ""}
	put(6, StdUDF, r.c.UDF)
	if len(b) > 0 {
		all := string(b)
		for i, at := range inB {
			if at.end > at.start {
				out[i].Value = all[at.start:at.end]
			}
		}
	}

	if id := &out[0]; !id.Null && !id.IsInt {
		// No integer is required: a text id is sent as text (a <string> in
		// XML-RPC); one that reads as an integer is normalised and is an <int>.
		if n, err := strconv.ParseInt(strings.TrimSpace(id.Value), 10, 64); err == nil {
			id.Int, id.IsInt, id.Value = n, true, strconv.FormatInt(n, 10)
		}
	}
	return out, nil
}

// stdText is the standard item name read from the field ref.
func (r *renderer) stdText(name, ref string) stdValue {
	v, ok := r.fieldText(ref)
	return stdValue{Name: name, Value: v, Null: !ok}
}
