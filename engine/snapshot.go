package engine

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ruleflow/ruleflow/qualification"
	"github.com/ruleflow/ruleflow/rules"
)

// A record snapshot is the latest values of a record of a form with time rules,
// kept in the store (timer_records.data) and decoded when one of its timers falls
// due. Every Handle of a save on such a form encodes one, so the encoding is a
// compact binary one appended into a single buffer (issue 12 budgets the whole
// arming step at a few µs): no reflection, no JSON, no intermediate map.
//
//	snapshot := 0xB1 uint32(fields, little endian) field*
//	field    := str(name) tag value
//	str      := uvarint(len) bytes          (any bytes: strings need not be UTF-8)
//	time     := 0 (zero time) | 1 varint(Unix seconds) uvarint(nanoseconds)  (decoded in UTC)
//	float    := 8 bytes, IEEE 754 little endian (NaN and ±Inf included)
//
// with, per tag: 's' string str; 'i' int64 varint; 'f' float64 float; 'b' bool one
// byte 0/1; 't' time.Time time; 'c' *qualification.CurrencyValue float(Value)
// str(Code) time(ConversionDate) uvarint(n) (str(Code) float(Value))*n; 'd'
// qualification.DiaryValue uvarint(n) (str(User) time(Timestamp) str(Text))*n; 'a'
// *rules.Attachment str(Name) str(ContentType) (the data is not kept). NULL values
// are omitted.
//
// Snapshots written before this encoding are JSON objects (they start with '{');
// decodeSnapshot still reads them (decodeJSONSnapshot), and the next save of the
// record replaces them.
const snapshotBinary = 0xB1

// encodeSnapshot appends the snapshot encoding of rec to b.
func encodeSnapshot(b []byte, rec rules.Record) ([]byte, error) {
	// The field count is written last, into a fixed-width slot: counting the
	// non-NULL fields first would cost a second pass over the map, which is most of
	// the encoding's time.
	b = append(b, snapshotBinary, 0, 0, 0, 0)
	at, n := len(b)-4, uint32(0)
	for k, v := range rec {
		if v == nil {
			continue
		}
		n++
		b = appendString(b, k)
		switch x := v.(type) {
		case string:
			b = appendString(append(b, 's'), x)
		case int64:
			b = binary.AppendVarint(append(b, 'i'), x)
		case float64:
			b = appendFloat(append(b, 'f'), x)
		case bool:
			c := byte(0)
			if x {
				c = 1
			}
			b = append(b, 'b', c)
		case time.Time:
			b = appendSnapTime(append(b, 't'), x)
		case *qualification.CurrencyValue:
			b = appendSnapCurrency(append(b, 'c'), x)
		case qualification.CurrencyValue:
			b = appendSnapCurrency(append(b, 'c'), &x)
		case qualification.DiaryValue:
			b = binary.AppendUvarint(append(b, 'd'), uint64(len(x)))
			for _, d := range x {
				b = appendString(appendSnapTime(appendString(b, d.User), d.Timestamp), d.Text)
			}
		case *rules.Attachment:
			b = appendString(appendString(append(b, 'a'), x.Name), x.ContentType)
		default:
			return nil, fmt.Errorf("field %q: cannot keep a %T in a record snapshot", k, v)
		}
	}
	binary.LittleEndian.PutUint32(b[at:], n)
	return b, nil
}

// snapshotSize estimates the encoding of rec, to size its buffer once: most
// fields are short strings, numbers and times (benchEvent's 11 fields take 205
// bytes); a record with long texts grows the buffer once or twice.
func snapshotSize(rec rules.Record) int { return 8 + 24*len(rec) }

func appendSnapTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	return binary.AppendUvarint(binary.AppendVarint(append(b, 1), t.Unix()), uint64(t.Nanosecond()))
}

func appendSnapCurrency(b []byte, c *qualification.CurrencyValue) []byte {
	b = appendSnapTime(appendString(appendFloat(b, c.Value), c.Code), c.ConversionDate)
	b = binary.AppendUvarint(b, uint64(len(c.Functional)))
	for _, f := range c.Functional {
		b = appendFloat(appendString(b, f.Code), f.Value)
	}
	return b
}

// time reads a time of a record snapshot (see appendSnapTime).
func (r *binReader) time() time.Time {
	switch r.byte() {
	case 0:
		return time.Time{}
	case 1:
		sec := r.varint()
		nsec := r.uvarint()
		if nsec >= 1e9 {
			r.fail(fmt.Errorf("nanoseconds %d out of range", nsec))
			return time.Time{}
		}
		return time.Unix(sec, int64(nsec)).UTC()
	default:
		r.fail(errors.New("bad time"))
		return time.Time{}
	}
}

// decodeSnapshot decodes a record snapshot written by encodeSnapshot (or, for
// snapshots stored before the binary encoding, by its JSON predecessor).
func decodeSnapshot(data []byte) (rules.Record, error) {
	if len(data) > 0 && data[0] == '{' {
		return decodeJSONSnapshot(data)
	}
	if len(data) == 0 || data[0] != snapshotBinary {
		return nil, errors.New("record snapshot: unknown encoding")
	}
	if len(data) < 5 {
		return nil, fmt.Errorf("record snapshot: %w", errTruncated)
	}
	n := int(binary.LittleEndian.Uint32(data[1:]))
	r := &binReader{b: data[5:]}
	if n > len(r.b)/3 { // a name's length, a tag and at least one byte of value each
		return nil, fmt.Errorf("record snapshot: %d fields in %d bytes: %w", n, len(r.b), errTruncated)
	}
	rec := make(rules.Record, n)
	for i := 0; i < n && r.err == nil; i++ {
		k := r.string()
		var v any
		switch tag := r.byte(); tag {
		case 's':
			v = r.string()
		case 'i':
			v = r.varint()
		case 'f':
			v = r.float()
		case 'b':
			switch r.byte() {
			case 0:
				v = false
			case 1:
				v = true
			default:
				r.fail(errors.New("bad bool"))
			}
		case 't':
			v = r.time()
		case 'c':
			c := &qualification.CurrencyValue{Value: r.float(), Code: r.string(), ConversionDate: r.time()}
			if m := r.count(9); m > 0 {
				c.Functional = make([]qualification.FunctionalAmount, m)
				for j := range c.Functional {
					c.Functional[j].Code = r.string()
					c.Functional[j].Value = r.float()
				}
			}
			v = c
		case 'd':
			d := make(qualification.DiaryValue, r.count(3))
			for j := range d {
				d[j].User = r.string()
				d[j].Timestamp = r.time()
				d[j].Text = r.string()
			}
			v = d
		case 'a':
			v = &rules.Attachment{Name: r.string(), ContentType: r.string()}
		default:
			r.fail(fmt.Errorf("unknown type tag %q", tag))
		}
		if r.err != nil {
			return nil, fmt.Errorf("record snapshot: field %q: %w", k, r.err)
		}
		rec[k] = v
	}
	if r.err != nil {
		return nil, fmt.Errorf("record snapshot: %w", r.err)
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("record snapshot: %d bytes after the last field", len(r.b))
	}
	return rec, nil
}

// decodeJSONSnapshot decodes a snapshot in the JSON encoding used before the
// binary one: an object of field → [tag, value], the tag naming the Go type as the
// binary tags do, plus "S" (a string that is not valid UTF-8, as base64) and "F" (a
// non-finite float64, as a string); "t" is [Unix seconds, nanoseconds].
func decodeJSONSnapshot(data []byte) (rules.Record, error) {
	var raw map[string][2]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("record snapshot: %w", err)
	}
	rec := make(rules.Record, len(raw))
	for k, tv := range raw {
		var tag string
		if err := json.Unmarshal(tv[0], &tag); err != nil {
			return nil, fmt.Errorf("record snapshot: field %q: %w", k, err)
		}
		var err error
		switch tag {
		case "s":
			var s string
			err = json.Unmarshal(tv[1], &s)
			rec[k] = s
		case "S":
			var raw []byte
			err = json.Unmarshal(tv[1], &raw)
			rec[k] = string(raw)
		case "i":
			var n int64
			n, err = strconv.ParseInt(string(tv[1]), 10, 64)
			rec[k] = n
		case "f":
			var f float64
			f, err = strconv.ParseFloat(string(tv[1]), 64)
			rec[k] = f
		case "F":
			var s string
			if err = json.Unmarshal(tv[1], &s); err == nil {
				var f float64
				f, err = strconv.ParseFloat(s, 64)
				rec[k] = f
			}
		case "b":
			var x bool
			err = json.Unmarshal(tv[1], &x)
			rec[k] = x
		case "t":
			var sn [2]int64
			if err = json.Unmarshal(tv[1], &sn); err == nil {
				rec[k] = time.Unix(sn[0], sn[1]).UTC()
			}
		case "c":
			c := &qualification.CurrencyValue{}
			err = json.Unmarshal(tv[1], c)
			rec[k] = c
		case "d":
			var d qualification.DiaryValue
			err = json.Unmarshal(tv[1], &d)
			rec[k] = d
		case "a":
			a := &rules.Attachment{}
			err = json.Unmarshal(tv[1], a)
			rec[k] = a
		default:
			err = fmt.Errorf("unknown type tag %q", tag)
		}
		if err != nil {
			return nil, fmt.Errorf("record snapshot: field %q: %w", k, err)
		}
	}
	return rec, nil
}
