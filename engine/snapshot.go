package engine

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/ruleflow/ruleflow/qualification"
	"github.com/ruleflow/ruleflow/rules"
)

// A record snapshot (the latest values of a record of a form with time rules, kept
// in the store) is a JSON object of field → [tag, value], the tag naming the Go type
// of the value so that it decodes back exactly: "s" string, "i" int64, "f" float64
// (or "F" for a non-finite one, as a string), "S" a string that is not valid UTF-8 (base64), "b" bool, "t" time.Time ([Unix seconds,
// nanoseconds], UTC), "c" *qualification.CurrencyValue, "d" qualification.DiaryValue, "a"
// *rules.Attachment (name and content type: the data is not kept). NULL is omitted.

// encodeSnapshot appends the snapshot encoding of rec to b.
func encodeSnapshot(b []byte, rec rules.Record) ([]byte, error) {
	b = append(b, '{')
	first := true
	for k, v := range rec {
		if v == nil {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		if !utf8.ValidString(k) {
			return nil, fmt.Errorf("field name %q is not valid UTF-8", k)
		}
		b = appendJSONString(b, k)
		b = append(b, `:["`...)
		switch x := v.(type) {
		case string:
			if !utf8.ValidString(x) { // JSON holds only UTF-8: keep the bytes as base64
				b = append(b, `S","`...)
				b = base64.StdEncoding.AppendEncode(b, []byte(x))
				b = append(b, '"')
				break
			}
			b = append(b, `s",`...)
			b = appendJSONString(b, x)
		case int64:
			b = append(b, `i",`...)
			b = strconv.AppendInt(b, x, 10)
		case float64:
			if math.IsInf(x, 0) || math.IsNaN(x) {
				b = append(b, `F","`...)
				b = strconv.AppendFloat(b, x, 'g', -1, 64)
				b = append(b, '"')
				break
			}
			b = append(b, `f",`...)
			b = strconv.AppendFloat(b, x, 'g', -1, 64)
		case bool:
			b = append(b, `b",`...)
			b = strconv.AppendBool(b, x)
		case time.Time:
			b = append(b, `t",[`...)
			b = strconv.AppendInt(b, x.Unix(), 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(x.Nanosecond()), 10)
			b = append(b, ']')
		default:
			tag, val := "", any(nil)
			switch y := v.(type) {
			case *qualification.CurrencyValue:
				tag, val = "c", y
			case qualification.CurrencyValue:
				tag, val = "c", &y
			case qualification.DiaryValue:
				tag, val = "d", y
			case *rules.Attachment:
				tag, val = "a", &rules.Attachment{Name: y.Name, ContentType: y.ContentType}
			default:
				return nil, fmt.Errorf("field %q: cannot keep a %T in a record snapshot", k, v)
			}
			j, err := json.Marshal(val)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", k, err)
			}
			b = append(b, tag...)
			b = append(b, `",`...)
			b = append(b, j...)
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// decodeSnapshot decodes a record snapshot written by encodeSnapshot.
func decodeSnapshot(data []byte) (rules.Record, error) {
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
