package callouts

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"mime"
	"mime/multipart"
	"net/textproto"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ruleflow/ruleflow/qualification"
	"github.com/ruleflow/ruleflow/rules"
)

// json encodes the AR System webhook callback (AR seed):
//
//	{"webhook_id":..,"entry_event":..,"form_name":..,"entry_id":..,"entry_details":{..}}
//
// with the keys in exactly that order. entry_event is the event kind as the seed
// spells it ("create", "update", "delete"). entry_details holds, on create (and on
// callback and external events), the callout's payload fields, or every field of the
// form in declaration order when the list is empty; on update only the registered
// payload fields that changed (every changed field when the list is empty); it is
// left out on delete. Values: text, numbers (integer, real, decimal) and booleans as
// JSON; date-times as strings in DateTimeLayout in the configured zone; dates as
// "2006-01-02"; times of day as "15:04:05"; selections by option name, or by the
// option's AR value when the callout's enum_format is value (the default of AR
// webhooks); currency and diary values as the AR REST API writes them (appendCurrency,
// appendDiary); an attachment by its file name; NULL as null.
//
// When a sent field holds an attachment, the body is multipart/form-data: a part
// "entry" (application/json; charset=UTF-8) with the JSON above, then one part
// "attach-<FieldName>" per attachment carrying its file name and bytes. The boundary
// is derived from a hash of the content, so rendering is deterministic.
func (r *renderer) json(req *Request) error {
	body, contentType, err := r.jsonBody(make([]byte, 0, jsonBodySize))
	if err != nil {
		return err
	}
	req.Header["Content-Type"] = contentType
	req.Body = body
	return nil
}

// jsonContentType is the Content-Type of a JSON body without attachments.
const jsonContentType = "application/json"

// jsonBodySize is room for the JSON body of a typical update.
const jsonBodySize = 256

// jsonBody is the body json sends, the JSON appended to b (or, when attachments
// are sent, a multipart/form-data body of its own holding it), and its
// Content-Type (jsonContentType, or multipart/form-data with its boundary), so that
// the compiled path can keep a callout's shared header when the type is the usual
// one.
func (r *renderer) jsonBody(b []byte) (body []byte, contentType string, err error) {
	b = append(b, `{"webhook_id":`...)
	b = appendJSONString(b, r.c.WebhookID)
	b = append(b, `,"entry_event":`...)
	b = appendJSONString(b, string(r.ev.Kind))
	b = append(b, `,"form_name":`...)
	b = appendJSONString(b, r.ev.Form)
	b = append(b, `,"entry_id":`...)
	b = appendJSONString(b, r.ev.EntryID)
	var attBuf [2]namedAttachment // the usual few, kept off the heap
	attachments := attBuf[:0]
	if r.ev.Kind != rules.KindDelete {
		b = append(b, `,"entry_details":{`...)
		b, attachments = r.appendEntries(b, attachments)
		b = append(b, '}')
	}
	b = append(b, '}')
	if len(attachments) == 0 {
		return b, jsonContentType, nil
	}
	body, boundary, err := multipartBody(b, attachments)
	if err != nil {
		return nil, "", r.errorf("multipart: %v", err)
	}
	return body, "multipart/form-data; boundary=" + boundary, nil
}

// appendEntries appends the members of entry_details (jsonFields, each by
// appendEntry) and adds the attachments among them to atts.
func (r *renderer) appendEntries(b []byte, atts []namedAttachment) ([]byte, []namedAttachment) {
	if r.ev.Kind == rules.KindUpdate && len(r.c.PayloadFields) == 0 && r.ev.Set == nil && r.schema != nil {
		return r.appendChangedEntries(b, atts)
	}
	for i, name := range r.jsonFields() {
		b, atts = r.appendEntry(b, i, name, r.rec[name], r.field(name), atts)
	}
	return b, atts
}

// appendEntry appends the entry_details member i (a comma before all but the
// first) for the record key name holding v, of field f (nil when it is not one),
// and adds v to atts when it is an attachment.
func (r *renderer) appendEntry(b []byte, i int, name string, v any, f *qualification.Field, atts []namedAttachment) ([]byte, []namedAttachment) {
	if i > 0 {
		b = append(b, ',')
	}
	b = appendJSONString(b, name)
	b = append(b, ':')
	if raw, ok := r.externalObject(name, v); ok {
		return append(b, raw...), atts
	}
	b = r.appendJSONValue(b, v, f)
	switch a := v.(type) {
	case *rules.Attachment:
		if a != nil {
			atts = append(atts, namedAttachment{name, a})
		}
	case rules.Attachment:
		atts = append(atts, namedAttachment{name, &a})
	}
	return b, atts
}

// appendChangedEntries appends the entries of an update that lists no payload
// fields and no ev.Set, as jsonFields and appendEntry would (changedInFormOrder's
// order), reading each field of the form once: its value and its definition are
// at hand when it is found changed, not looked up again by name.
func (r *renderer) appendChangedEntries(b []byte, atts []namedAttachment) ([]byte, []namedAttachment) {
	ev := r.ev
	n, inAfter, inBefore := 0, 0, 0
	for i := range r.schema.Fields {
		f := &r.schema.Fields[i]
		a, okA := ev.After[f.Name]
		bv, okB := ev.Before[f.Name]
		if okA {
			inAfter++
		}
		if okB {
			inBefore++
		}
		if changedValue(a, okA, bv, okB) {
			b, atts = r.appendEntry(b, n, f.Name, a, f, atts) // a is r.rec[f.Name]: rec is After
			n++
		}
	}
	if inAfter == len(ev.After) && inBefore == len(ev.Before) {
		return b, atts // every key is a field of the form: no other can have changed
	}
	for _, name := range r.otherChanged(changes{ev: ev}) {
		b, atts = r.appendEntry(b, n, name, r.rec[name], r.field(name), atts)
		n++
	}
	return b, atts
}

type namedAttachment struct {
	field string
	a     *rules.Attachment
}

// jsonFields returns the record keys sent in entry_details, in order.
func (r *renderer) jsonFields() []string {
	switch r.ev.Kind {
	case rules.KindDelete:
		return nil
	case rules.KindUpdate:
		ch := r.changes()
		if len(r.c.PayloadFields) > 0 {
			var out []string
			for _, p := range r.c.PayloadFields {
				name := r.fieldName(p)
				if ch.has(name) && !slices.Contains(out, name) {
					out = append(out, name)
				}
			}
			return out
		}
		return r.changedInFormOrder(ch)
	default:
		if len(r.c.PayloadFields) > 0 {
			out := make([]string, 0, len(r.c.PayloadFields))
			for _, p := range r.c.PayloadFields {
				if name := r.fieldName(p); !slices.Contains(out, name) {
					out = append(out, name)
				}
			}
			return out
		}
		if r.schema != nil {
			out := make([]string, len(r.schema.Fields))
			for i, f := range r.schema.Fields {
				out[i] = f.Name
			}
			return out
		}
		all := make(map[string]bool, len(r.rec))
		for k := range r.rec {
			all[k] = true
		}
		return r.inFormOrder(all)
	}
}

// inFormOrder lists the names in set: the form's fields in declaration order first,
// then any others sorted by name.
func (r *renderer) inFormOrder(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	seen := make(map[string]bool, len(set))
	if r.schema != nil {
		for _, f := range r.schema.Fields {
			if set[f.Name] {
				out = append(out, f.Name)
				seen[f.Name] = true
			}
		}
	}
	var rest []string
	for name := range set {
		if !seen[name] {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// changes are the fields an update changed, read without building a set: ev.Set
// when given (its names resolved to record keys), else the fields whose value
// differs between Before and After.
type changes struct {
	ev  *rules.Event
	set []string // ev.Set resolved to record keys, once each, when ev.Set is not nil
}

// changes returns the fields changed by the update r renders.
func (r *renderer) changes() changes {
	ch := changes{ev: r.ev}
	if r.ev.Set != nil {
		ch.set = make([]string, 0, len(r.ev.Set))
		for _, name := range r.ev.Set {
			if k := r.fieldName(name); !slices.Contains(ch.set, k) {
				ch.set = append(ch.set, k)
			}
		}
	}
	return ch
}

// has reports whether the update changed the field with record key k: a key of
// After whose value differs from Before's (or is not NULL where Before lacks it),
// or a key only Before has whose value is not NULL.
func (ch changes) has(k string) bool {
	if ch.ev.Set != nil {
		return slices.Contains(ch.set, k)
	}
	a, inAfter := ch.ev.After[k]
	b, inBefore := ch.ev.Before[k]
	return changedValue(a, inAfter, b, inBefore)
}

// changedValue is changes.has for the values a field has after and before.
func changedValue(a any, inAfter bool, b any, inBefore bool) bool {
	if inAfter {
		return inBefore && !sameValue(a, b) || !inBefore && a != nil
	}
	return inBefore && b != nil
}

// changedInFormOrder lists the changed fields as inFormOrder lists a set: the
// form's fields in declaration order, then the other changed keys sorted by name.
func (r *renderer) changedInFormOrder(ch changes) []string {
	var out []string
	// inAfter and inBefore count the keys of After and Before that are fields of
	// the form: when they are all, no other key can have changed.
	inAfter, inBefore := 0, 0
	if r.schema != nil {
		for _, f := range r.schema.Fields {
			var changed bool
			if ch.ev.Set != nil {
				changed = slices.Contains(ch.set, f.Name)
			} else {
				a, okA := ch.ev.After[f.Name]
				b, okB := ch.ev.Before[f.Name]
				if okA {
					inAfter++
				}
				if okB {
					inBefore++
				}
				changed = changedValue(a, okA, b, okB)
			}
			if changed {
				if out == nil {
					out = make([]string, 0, len(r.schema.Fields))
				}
				out = append(out, f.Name)
			}
		}
		if ch.ev.Set == nil && inAfter == len(ch.ev.After) && inBefore == len(ch.ev.Before) {
			return out
		}
	}
	return append(out, r.otherChanged(ch)...)
}

// otherChanged lists, sorted by name, the changed keys that are not fields of the
// form (all of them when it has no schema).
func (r *renderer) otherChanged(ch changes) []string {
	var rest []string
	other := func(k string) { // a changed key: kept unless it names a field of the form
		if r.schema != nil {
			if _, isField := r.schema.Field(k); isField {
				return
			}
		}
		rest = append(rest, k)
	}
	if ch.ev.Set != nil {
		for _, k := range ch.set {
			other(k)
		}
	} else {
		for k := range ch.ev.After {
			if ch.has(k) {
				other(k)
			}
		}
		for k, b := range ch.ev.Before {
			if _, inAfter := ch.ev.After[k]; !inAfter && b != nil {
				other(k)
			}
		}
	}
	slices.Sort(rest)
	return rest
}

// sameValue compares two record values without panicking on uncomparable types.
func sameValue(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case string:
		bs, ok := b.(string)
		return ok && a == bs
	case int64:
		bi, ok := b.(int64)
		return ok && a == bi
	case float64:
		bf, ok := b.(float64)
		return ok && (a == bf || math.IsNaN(a) && math.IsNaN(bf))
	case bool:
		bb, ok := b.(bool)
		return ok && a == bb
	case time.Time:
		bt, ok := b.(time.Time)
		return ok && a.Equal(bt)
	case *rules.Attachment:
		bp, ok := b.(*rules.Attachment)
		if !ok || (a == nil) != (bp == nil) {
			return false
		}
		return a == nil || a.Name == bp.Name && a.ContentType == bp.ContentType && bytes.Equal(a.Data, bp.Data)
	}
	return reflect.DeepEqual(a, b)
}

// appendJSONValue appends the JSON form of a record value.
func (r *renderer) appendJSONValue(b []byte, v any, f *qualification.Field) []byte {
	if f != nil && f.Type == qualification.Selection && v != nil {
		return r.appendSelection(b, v, f)
	}
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case int64:
		if f != nil && f.Type == qualification.Time && v >= 0 && v < 86400 {
			return appendJSONString(b, timeOfDay(v))
		}
		return strconv.AppendInt(b, v, 10)
	case *qualification.CurrencyValue:
		if v == nil {
			return append(b, "null"...)
		}
		return r.appendCurrency(b, v)
	case qualification.DiaryValue:
		return r.appendDiary(b, v)
	case int:
		return r.appendJSONValue(b, int64(v), f)
	case int32:
		return r.appendJSONValue(b, int64(v), f)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return append(b, "null"...)
		}
		return strconv.AppendFloat(b, v, 'g', -1, 64)
	case float32:
		return r.appendJSONValue(b, float64(v), f)
	case bool:
		return strconv.AppendBool(b, v)
	case *rules.Attachment:
		if v == nil {
			return append(b, "null"...)
		}
		return appendJSONString(b, v.Name)
	case time.Time:
		// What text gives (DateLayout or DateTimeLayout), formatted in place: the
		// layouts write only digits, '-', '+', ':', '.' and 'T', which need no escape.
		b = append(b, '"')
		if f != nil && f.Type == qualification.Date {
			b = v.In(r.loc).AppendFormat(b, DateLayout)
		} else {
			b = appendDateTime(b, v.In(r.loc))
		}
		return append(b, '"')
	default:
		s, _ := r.text(v, f)
		return appendJSONString(b, s)
	}
}

// appendSelection writes a selection value: its option's AR value as a number when
// the callout's enum_format is value (AR webhooks: "Status": 0), else the name. A
// value that is no option is written as it is.
func (r *renderer) appendSelection(b []byte, v any, f *qualification.Field) []byte {
	pos := -1
	switch x := v.(type) {
	case string:
		pos = f.OptionIndex(x)
	case int64:
		pos = f.OptionByValue(x)
	case int:
		pos = f.OptionByValue(int64(x))
	}
	switch {
	case pos < 0:
		s, _ := r.text(v, f)
		return appendJSONString(b, s)
	case r.c.EnumFormat == rules.EnumValue:
		return strconv.AppendInt(b, f.OptionValue(pos), 10)
	}
	return appendJSONString(b, f.Options[pos])
}

// arRESTTimeLayout is how the AR REST API writes date-times inside currency and
// diary values: "2014-12-01T12:48:03.000+0000".
const arRESTTimeLayout = "2006-01-02T15:04:05.000-0700"

// appendCurrency writes a currency value as the AR REST API does:
// {"decimal":25.99,"currency":"USD","conversionDate":"…","functionalValues":{"USD":25.99}}.
func (r *renderer) appendCurrency(b []byte, c *qualification.CurrencyValue) []byte {
	b = append(b, `{"decimal":`...)
	b = r.appendJSONValue(b, c.Value, nil)
	b = append(b, `,"currency":`...)
	b = appendJSONString(b, c.Code)
	b = append(b, `,"conversionDate":`...)
	if c.ConversionDate.IsZero() {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, c.ConversionDate.In(r.loc).Format(arRESTTimeLayout))
	}
	b = append(b, `,"functionalValues":{`...)
	for i, fv := range c.Functional {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, fv.Code)
		b = append(b, ':')
		b = r.appendJSONValue(b, fv.Value, nil)
	}
	return append(b, "}}"...)
}

// appendDiary writes a diary value as the AR REST API does: a list of
// {"user":…,"timestamp":…,"text":…}, oldest first.
func (r *renderer) appendDiary(b []byte, d qualification.DiaryValue) []byte {
	b = append(b, '[')
	for i, e := range d {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"user":`...)
		b = appendJSONString(b, e.User)
		b = append(b, `,"timestamp":`...)
		if e.Timestamp.IsZero() {
			b = append(b, "null"...)
		} else {
			b = appendJSONString(b, e.Timestamp.In(r.loc).Format(arRESTTimeLayout))
		}
		b = append(b, `,"text":`...)
		b = appendJSONString(b, e.Text)
		b = append(b, '}')
	}
	return append(b, ']')
}

// timeOfDay writes seconds since midnight as the AR REST API writes a time of day:
// "13:15:59".
func timeOfDay(s int64) string {
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD; control
// characters and U+2028/U+2029 are escaped; HTML characters are left as they are.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		rn, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case rn == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case rn == '\u2028' || rn == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[rn&0xF])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// multipartBody builds the multipart/form-data body of an AR webhook callback with
// attachments. The boundary is a hash of the content.
func multipartBody(entry []byte, atts []namedAttachment) ([]byte, string, error) {
	h := sha256.New()
	h.Write(entry)
	for _, a := range atts {
		h.Write([]byte(a.field))
		h.Write([]byte{0})
		h.Write([]byte(a.a.Name))
		h.Write([]byte{0})
		h.Write(a.a.Data)
	}
	boundary := "ruleflow-" + hex.EncodeToString(h.Sum(nil)[:16])

	var buf bytes.Buffer
	buf.Grow(len(entry) + 512)
	for _, a := range atts {
		buf.Grow(len(a.a.Data) + 256)
	}
	w := multipart.NewWriter(&buf)
	if err := w.SetBoundary(boundary); err != nil {
		return nil, "", err
	}
	part, err := w.CreatePart(textproto.MIMEHeader{
		"Content-Disposition": {`form-data; name="entry"`},
		"Content-Type":        {"application/json; charset=UTF-8"},
	})
	if err != nil {
		return nil, "", err
	}
	part.Write(entry)
	for _, a := range atts {
		ct := a.a.ContentType
		if _, _, err := mime.ParseMediaType(ct); err != nil || strings.ContainsAny(ct, "\r\n") {
			ct = "application/octet-stream"
		}
		part, err := w.CreatePart(textproto.MIMEHeader{
			"Content-Disposition":       {`form-data; name="` + quoteParam("attach-"+a.field) + `"; filename="` + quoteParam(a.a.Name) + `"`},
			"Content-Type":              {ct},
			"Content-Transfer-Encoding": {"binary"},
		})
		if err != nil {
			return nil, "", err
		}
		part.Write(a.a.Data)
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), boundary, nil
}

// quoteParam escapes a Content-Disposition parameter value for a quoted string:
// backslash and double quote are escaped, line breaks and other control characters
// (which would split the header) become spaces, invalid UTF-8 becomes U+FFFD.
func quoteParam(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, c := range s { // each invalid UTF-8 byte reads as U+FFFD
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		case c < 0x20 || c == 0x7f:
			b.WriteByte(' ')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}
