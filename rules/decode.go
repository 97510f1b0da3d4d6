package rules

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ruleflow/ruleflow/qualification"
)

// eventJSON is the wire form of an event (design §2).
type eventJSON struct {
	Event   string          `json:"event"`
	Form    string          `json:"form"`
	EntryID json.RawMessage `json:"entry_id"`
	User    string          `json:"user"`
	Groups  []string        `json:"groups"`
	Time    string          `json:"time"`
	Before  map[string]any  `json:"before"`
	After   map[string]any  `json:"after"`
	Set     []string        `json:"set"`

	StatusHistory map[string]any `json:"status_history"`
}

// MaxEventLine is the longest JSONL line ReadEvents accepts.
const MaxEventLine = 16 << 20

// DecodeEvent decodes one event in the JSON form of design §2:
//
//	{"event":"update","form":"Ticket","entry_id":"8176","user":"jsmith",
//	 "time":"2022-03-25T15:23:58Z","before":{...},"after":{...},"set":[...]}
//
// Values are converted by the form's schema: datetime from RFC 3339 text (or epoch
// seconds), date from "2006-01-02", time of day from "15:04:05" or seconds, integer to
// int64 (1.5 is rejected), real and decimal to float64, selection to the option name
// (given as the name or its integer index), bool, attachment from
// {"name","content_type","data_base64"} to *Attachment; character values must be
// strings; null is NULL. A field may also be named by its numeric ID. Unknown fields
// and values of the wrong type are errors naming the field.
//
// The form must be declared, except for callback events (the form is a callback
// function's api_name; arguments are converted by the declared parameter types) and
// external events (the form is a target URL name; values are dynamically typed:
// strings, int64 or float64 numbers, bools, and objects or arrays as JSON text).
//
// "event" and "form" are required. When "time" is absent the event gets the time
// now returns (time.Now when now is nil); "entry_id" may be a string or a number.
// Unknown top-level keys are errors.
func (c *Config) DecodeEvent(data []byte, now func() time.Time) (*Event, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var raw eventJSON
	if err := dec.Decode(&raw); err != nil {
		return nil, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid event JSON: unexpected data after the event object")
	}
	ev := &Event{Kind: Kind(raw.Event), Form: raw.Form, User: raw.User, Groups: raw.Groups}
	switch {
	case raw.Event == "":
		return nil, errors.New(`missing "event" (the event kind: create, update, delete, callback or external)`)
	case !ev.Kind.Valid():
		return nil, fmt.Errorf("unknown event kind %q (want create, update, delete, callback or external)", raw.Event)
	case raw.Form == "":
		return nil, errors.New(`missing "form"`)
	}
	if len(raw.EntryID) > 0 && string(raw.EntryID) != "null" {
		var s string
		var n json.Number
		if json.Unmarshal(raw.EntryID, &s) == nil {
			ev.EntryID = s
		} else if json.Unmarshal(raw.EntryID, &n) == nil {
			ev.EntryID = n.String()
		} else {
			return nil, errors.New(`"entry_id" must be a string or a number`)
		}
	}
	if raw.Time == "" {
		if now == nil {
			now = time.Now
		}
		ev.Time = now()
	} else {
		t, err := time.Parse(time.RFC3339Nano, raw.Time)
		if err != nil {
			return nil, fmt.Errorf("invalid time %q (want RFC 3339 such as 2022-03-25T15:23:58Z)", raw.Time)
		}
		ev.Time = t
	}

	conv, err := c.converter(ev.Kind, ev.Form)
	if err != nil {
		return nil, err
	}
	var errs []string
	for _, sec := range []struct {
		name string
		in   map[string]any
		out  *Record
	}{{"before", raw.Before, &ev.Before}, {"after", raw.After, &ev.After}} {
		if sec.in == nil {
			continue
		}
		rec, recErrs := convertRecord(conv, sec.in)
		for _, e := range recErrs {
			errs = append(errs, sec.name+": "+e)
		}
		*sec.out = rec
	}
	if ev.StatusHistory, err = c.decodeStatusHistory(ev.Form, raw.StatusHistory); err != nil {
		errs = append(errs, "status_history: "+err.Error())
	}
	if raw.Set != nil {
		ev.Set = make([]string, 0, len(raw.Set))
		for _, k := range raw.Set {
			name, _, err := conv(k, nil)
			if err != nil {
				errs = append(errs, "set: "+err.Error())
				continue
			}
			ev.Set = append(ev.Set, name)
		}
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "; "))
	}
	return ev, nil
}

// jsonError rewrites encoding/json errors into messages that name the key.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			return fmt.Errorf("invalid event JSON: want an object, got %s", te.Value)
		}
		want := "a string"
		switch te.Type.Kind() {
		case reflect.Map:
			want = "an object"
		case reflect.Slice:
			want = "a list of strings"
		}
		return fmt.Errorf("%q must be %s, got %s", field, want, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid event JSON at offset %d: %s", se.Offset, se.Error())
	}
	if err == io.EOF {
		return errors.New("invalid event JSON: empty input")
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	return errors.New("invalid event JSON: " + msg)
}

// valueConverter converts one JSON value of a field (the key as written) to the
// field's name and record value. With v nil it only resolves the name.
type valueConverter func(key string, v any) (string, any, error)

// converter returns the value converter of events of kind on form.
func (c *Config) converter(kind Kind, form string) (valueConverter, error) {
	if f, ok := c.Form(form); ok {
		return schemaConverter(f.Name, f.Schema, c.location()), nil
	}
	switch kind {
	case KindCallback:
		fn, ok := c.CallbackFunction(form)
		if !ok {
			return nil, fmt.Errorf("unknown callback function %q (not a declared form or callback function api_name)", form)
		}
		return func(key string, v any) (string, any, error) {
			t, ok := fn.Parameters[key]
			if !ok {
				return "", nil, fmt.Errorf("unknown parameter %q of callback function %q", key, fn.APIName)
			}
			if v == nil {
				return key, nil, nil
			}
			out, err := convertArgument(t, v)
			if err != nil {
				return "", nil, fmt.Errorf("parameter %q: %v", key, err)
			}
			return key, out, nil
		}, nil
	case KindExternal:
		if _, ok := c.Target(form); !ok {
			return nil, fmt.Errorf("unknown target URL %q (not a declared form or target URL name)", form)
		}
		return dynamicConverter, nil
	}
	var names []string
	for _, f := range c.Forms {
		names = append(names, f.Name)
	}
	return nil, fmt.Errorf("unknown form %q%s", form, didYouMean(form, names))
}

// schemaConverter converts the fields of a record of form by its schema: a field
// may be named or given by its numeric ID; values are converted by DecodeValue.
func schemaConverter(form string, schema *qualification.Schema, loc *time.Location) valueConverter {
	return func(key string, v any) (string, any, error) {
		fld, ok := schema.Field(key)
		if !ok && key != "" && strings.Trim(key, "0123456789") == "" {
			if id, err := strconv.ParseInt(key, 10, 64); err == nil {
				fld, ok = schema.FieldByID(id)
			}
		}
		if !ok {
			return "", nil, fmt.Errorf("unknown field %q of form %q%s", key, form, didYouMean(key, fieldNames(schema)))
		}
		if v == nil {
			return fld.Name, nil, nil
		}
		out, err := DecodeValue(fld, v, loc)
		if err != nil {
			return "", nil, fmt.Errorf("field %q: %v", fld.Name, err)
		}
		return fld.Name, out, nil
	}
}

// dynamicConverter keeps every key and converts its value by DynamicValue.
func dynamicConverter(key string, v any) (string, any, error) { return key, DynamicValue(v), nil }

// convertRecord converts the JSON values of a record with conv, in key order,
// returning the record and one message per bad field.
func convertRecord(conv valueConverter, in map[string]any) (Record, []string) {
	rec := make(Record, len(in))
	var errs []string
	for _, k := range slices.Sorted(maps.Keys(in)) {
		name, v, err := conv(k, in[k])
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		rec[name] = v
	}
	return rec, errs
}

// DecodeRecord decodes a record — a JSON object of field values such as
// {"Status":"Complete","TicketID":8176} — the way DecodeEvent decodes an event's
// "before" and "after": by schema's field types (see DecodeEvent), or, with a nil
// schema, dynamically typed (see DynamicValue). JSON null is NULL; an empty or
// null document is an empty record. Every bad field is reported, in key order.
func DecodeRecord(data []byte, schema *qualification.Schema, loc *time.Location) (Record, error) {
	var in map[string]any
	if len(bytes.TrimSpace(data)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&in); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return nil, fmt.Errorf("invalid JSON object: want an object, got %s", te.Value)
			}
			return nil, fmt.Errorf("invalid JSON object: %w", err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, errors.New("invalid JSON object: trailing data after the object")
		}
	}
	conv := valueConverter(dynamicConverter)
	if schema != nil {
		if loc == nil {
			loc = time.UTC
		}
		conv = schemaConverter(schema.Name, schema, loc)
	}
	rec, errs := convertRecord(conv, in)
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "; "))
	}
	return rec, nil
}

// jsonType names the JSON type of a decoded value for messages; long strings are
// cut so a message never echoes a whole body.
func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if len(x) > 40 {
			x = x[:40] + "…"
		}
		return fmt.Sprintf("string %q", x)
	case json.Number:
		return "number " + x.String()
	case bool:
		return "boolean " + strconv.FormatBool(x)
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}

// DecodeValue converts one JSON value of field f, as decoded by encoding/json with
// UseNumber, to its record value (the types are listed at DecodeEvent); loc is the
// zone of dates and of date-times given as epoch seconds. v must not be nil (NULL).
func DecodeValue(f *qualification.Field, v any, loc *time.Location) (any, error) {
	switch f.Type {
	case qualification.Character:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, fmt.Errorf("want a string for a character field, got %s", jsonType(v))
	case qualification.Integer:
		if n, ok := v.(json.Number); ok {
			if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
				return i, nil
			}
		}
		return nil, fmt.Errorf("want an integer, got %s", jsonType(v))
	case qualification.Real, qualification.Decimal:
		if n, ok := v.(json.Number); ok {
			if x, err := strconv.ParseFloat(n.String(), 64); err == nil && !math.IsInf(x, 0) {
				return x, nil
			}
		}
		return nil, fmt.Errorf("want a number, got %s", jsonType(v))
	case qualification.Boolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, fmt.Errorf("want true or false, got %s", jsonType(v))
	case qualification.DateTime:
		switch x := v.(type) {
		case string:
			t, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return nil, fmt.Errorf("invalid date-time %q (want RFC 3339 such as 2021-11-20T10:43:34-05:00)", x)
			}
			return t, nil
		case json.Number:
			if s, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
				return time.Unix(s, 0).In(loc), nil
			}
		}
		return nil, fmt.Errorf("want an RFC 3339 date-time string or epoch seconds, got %s", jsonType(v))
	case qualification.Date:
		if s, ok := v.(string); ok {
			if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
				return t, nil
			}
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				y, m, d := t.In(loc).Date()
				return time.Date(y, m, d, 0, 0, 0, 0, loc), nil
			}
			return nil, fmt.Errorf("invalid date %q (want 2006-01-02)", s)
		}
		return nil, fmt.Errorf("want a date string such as 2006-01-02, got %s", jsonType(v))
	case qualification.Time:
		switch x := v.(type) {
		case json.Number:
			if s, err := strconv.ParseInt(x.String(), 10, 64); err == nil && s >= 0 && s < 86400 {
				return s, nil
			}
		case string:
			for _, layout := range []string{"15:04:05", "15:04"} {
				if t, err := time.Parse(layout, x); err == nil {
					return int64(t.Hour()*3600 + t.Minute()*60 + t.Second()), nil
				}
			}
			return nil, fmt.Errorf("invalid time of day %q (want 15:04:05)", x)
		}
		return nil, fmt.Errorf("want a time of day (15:04:05) or seconds since midnight, got %s", jsonType(v))
	case qualification.Selection:
		return decodeSelection(f, v)
	case qualification.Currency:
		return decodeCurrency(v, loc)
	case qualification.Diary:
		return decodeDiary(v, loc)
	case qualification.Attachment:
		return decodeAttachment(v)
	}
	return nil, fmt.Errorf("unsupported field type %s", f.Type)
}

// decodeAttachment converts {"name","content_type","data_base64"} to *Attachment.
func decodeAttachment(v any) (*Attachment, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf(`want an attachment object {"name","content_type","data_base64"}, got %s`, jsonType(v))
	}
	a := &Attachment{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		s, ok := m[k].(string)
		if !ok && m[k] != nil {
			return nil, fmt.Errorf("attachment %s must be a string, got %s", k, jsonType(m[k]))
		}
		switch k {
		case "name":
			a.Name = s
		case "content_type":
			a.ContentType = s
		case "data_base64":
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("attachment data_base64 is not valid base64")
			}
			a.Data = b
		default:
			return nil, fmt.Errorf("unknown attachment key %q (want name, content_type, data_base64)", k)
		}
	}
	if a.Name == "" {
		return nil, errors.New("attachment needs a name")
	}
	return a, nil
}

// DynamicValue is a JSON value as the rules see it without a schema (external
// events, a record without a form): numbers become int64 when integral and float64
// otherwise (a number too large for float64 keeps its text); objects and arrays
// become their JSON text; strings, bools and nil stay. Go numbers (from a payload
// built in code) are converted the same way.
func DynamicValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
			return i
		}
		f, err := strconv.ParseFloat(x.String(), 64)
		if err != nil {
			return x.String()
		}
		return f
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x)
		}
		return float64(x)
	case uint32:
		return int64(x)
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
		return float64(x)
	case float32:
		return DynamicValue(float64(x))
	case float64:
		if x == float64(int64(x)) && x < 1<<53 && x > -(1<<53) {
			return int64(x)
		}
		return x
	case map[string]any, []any:
		b, err := json.Marshal(x)
		if err != nil {
			return nil
		}
		return string(b)
	}
	return v
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	switch len(q) {
	case 0:
		return "no options"
	case 1:
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// ReadEvents reads events from r, one JSON object per line (JSONL), and calls fn for
// each: with the event, or with an error "name:line: message" for a bad line, after
// which reading continues. Blank lines are skipped. ReadEvents stops and returns the
// error when fn returns one, or when r fails or a line is longer than MaxEventLine.
func (c *Config) ReadEvents(r io.Reader, name string, fn func(line int, ev *Event, err error) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxEventLine)
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		ev, err := c.DecodeEvent(text, time.Now)
		if err != nil {
			err = fmt.Errorf("%s:%d: %s", name, line, err.Error())
		}
		if ferr := fn(line, ev, err); ferr != nil {
			return ferr
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	return nil
}
