package rules

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ruleflow/ruleflow/qualification"
)

// decodeSelection converts a selection value given as the option's name or as its
// value (AR's number for it) to the option name a Record holds.
func decodeSelection(f *qualification.Field, v any) (any, error) {
	switch x := v.(type) {
	case string:
		if f.OptionIndex(x) >= 0 {
			return x, nil
		}
		if f.Values == nil {
			return nil, fmt.Errorf("unknown option %q (want %s, or an index 0 to %d)", x, quoteList(f.Options), len(f.Options)-1)
		}
		return nil, fmt.Errorf("unknown option %q (want a name or value of %s)", x, f.OptionValuesText())
	case json.Number:
		if i, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
			if pos := f.OptionByValue(i); pos >= 0 {
				return f.Options[pos], nil
			}
		}
		if f.Values == nil {
			return nil, fmt.Errorf("option index %s is out of range (want 0 to %d)", x, len(f.Options)-1)
		}
		return nil, fmt.Errorf("option value %s is not one of %s", x, f.OptionValuesText())
	}
	return nil, fmt.Errorf("want an option name or value, got %s", jsonType(v))
}

// decodeCurrency converts a currency value in the AR REST API's form,
//
//	{"decimal": 25.99, "currency": "USD", "conversionDate": "2014-12-01T12:48:03.000+0000",
//	 "functionalValues": {"USD": 25.99, "EUR": 20.14}}
//
// to a *qualification.CurrencyValue. decimal and currency are required; the decimal
// may also be a numeric string, conversionDate epoch seconds, and functionalValues a
// list of {"decimal", "currency"} objects.
func decodeCurrency(v any, loc *time.Location) (any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf(`want a currency object {"decimal", "currency", "conversionDate", "functionalValues"}, got %s`, jsonType(v))
	}
	c := &qualification.CurrencyValue{}
	var haveValue, haveCode bool
	for _, k := range slices.Sorted(maps.Keys(m)) {
		x := m[k]
		switch k {
		case "decimal":
			f, err := decimalNumber(x)
			if err != nil {
				return nil, fmt.Errorf("currency decimal: %v", err)
			}
			c.Value, haveValue = f, true
		case "currency":
			s, ok := x.(string)
			if !ok || !currencyCode(s) {
				return nil, fmt.Errorf("currency code must be three upper-case letters such as \"USD\", got %s", jsonType(x))
			}
			c.Code, haveCode = s, true
		case "conversionDate":
			if x == nil {
				continue
			}
			t, err := arDateTime(x, loc)
			if err != nil {
				return nil, fmt.Errorf("currency conversionDate: %v", err)
			}
			c.ConversionDate = t
		case "functionalValues":
			fv, err := functionalValues(x)
			if err != nil {
				return nil, err
			}
			c.Functional = fv
		default:
			return nil, fmt.Errorf("unknown currency key %q (want decimal, currency, conversionDate, functionalValues)", k)
		}
	}
	if !haveValue || !haveCode {
		return nil, errors.New(`a currency value needs "decimal" and "currency"`)
	}
	return c, nil
}

// functionalValues reads {"USD": 25.99, ...} (the REST API's form, kept sorted by
// code) or [{"decimal": 25.99, "currency": "USD"}, ...] (kept in order).
func functionalValues(x any) ([]qualification.FunctionalAmount, error) {
	var out []qualification.FunctionalAmount
	add := func(code string, v any) error {
		if !currencyCode(code) {
			return fmt.Errorf("functional currency code %q must be three upper-case letters", code)
		}
		f, err := decimalNumber(v)
		if err != nil {
			return fmt.Errorf("functional value %s: %v", code, err)
		}
		for _, a := range out {
			if a.Code == code {
				return fmt.Errorf("functional currency %s is given twice", code)
			}
		}
		out = append(out, qualification.FunctionalAmount{Code: code, Value: f})
		return nil
	}
	switch fv := x.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		for _, code := range slices.Sorted(maps.Keys(fv)) {
			if err := add(code, fv[code]); err != nil {
				return nil, err
			}
		}
		return out, nil
	case []any:
		for _, it := range fv {
			m, ok := it.(map[string]any)
			code, okc := m["currency"].(string)
			if !ok || !okc || len(m) != 2 {
				return nil, fmt.Errorf(`functionalValues entries must be {"decimal", "currency"}, got %s`, jsonType(it))
			}
			if err := add(code, m["decimal"]); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("functionalValues must be an object of currency code to amount, got %s", jsonType(x))
}

func currencyCode(s string) bool {
	return len(s) == 3 && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
}

// decimalNumber reads a decimal given as a JSON number or a numeric string.
func decimalNumber(x any) (float64, error) {
	var text string
	switch n := x.(type) {
	case json.Number:
		text = n.String()
	case string:
		text = strings.TrimSpace(n)
	default:
		return 0, fmt.Errorf("want a number, got %s", jsonType(x))
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("want a number, got %s", jsonType(x))
	}
	return f, nil
}

// arDateTimeLayouts are the date-time forms accepted in currency, diary and
// status-history values: RFC 3339, and ISO 8601 with a numeric zone without a
// colon, as the AR REST API writes ("2014-12-01T12:48:03.000+0000").
var arDateTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999-0700"}

// arDateTime reads a date-time given as text in arDateTimeLayouts or epoch seconds.
func arDateTime(x any, loc *time.Location) (time.Time, error) {
	switch v := x.(type) {
	case string:
		for _, l := range arDateTimeLayouts {
			if t, err := time.Parse(l, v); err == nil {
				return t, nil
			}
		}
		return time.Time{}, fmt.Errorf("invalid date-time %q (want ISO 8601 such as 2014-12-01T12:48:03.000+0000)", v)
	case json.Number:
		if s, err := strconv.ParseInt(v.String(), 10, 64); err == nil {
			return time.Unix(s, 0).In(loc), nil
		}
	}
	return time.Time{}, fmt.Errorf("want an ISO 8601 date-time string or epoch seconds, got %s", jsonType(x))
}

// decodeDiary converts a diary value: the AR REST API's list of entries
// [{"user": "Demo", "timestamp": "2018-12-01T12:48:03.000+0000", "text": "..."}],
// or a string (one entry without user and time stamp).
func decodeDiary(v any, loc *time.Location) (any, error) {
	switch x := v.(type) {
	case string:
		return qualification.DiaryValue{{Text: x}}, nil
	case []any:
		d := make(qualification.DiaryValue, 0, len(x))
		for i, it := range x {
			m, ok := it.(map[string]any)
			if !ok {
				return nil, fmt.Errorf(`diary entry %d: want {"user", "timestamp", "text"}, got %s`, i, jsonType(it))
			}
			var e qualification.DiaryEntry
			for _, k := range slices.Sorted(maps.Keys(m)) {
				val := m[k]
				switch k {
				case "user", "text":
					s, ok := val.(string)
					if !ok && val != nil {
						return nil, fmt.Errorf("diary entry %d: %s must be a string, got %s", i, k, jsonType(val))
					}
					if k == "user" {
						e.User = s
					} else {
						e.Text = s
					}
				case "timestamp":
					if val == nil {
						continue
					}
					t, err := arDateTime(val, loc)
					if err != nil {
						return nil, fmt.Errorf("diary entry %d: timestamp: %v", i, err)
					}
					e.Timestamp = t
				default:
					return nil, fmt.Errorf("diary entry %d: unknown key %q (want user, timestamp, text)", i, k)
				}
			}
			d = append(d, e)
		}
		return d, nil
	}
	return nil, fmt.Errorf(`want a list of diary entries {"user", "timestamp", "text"} or a string, got %s`, jsonType(v))
}

// decodeStatusHistory converts an event's status_history, in the shape AR's REST API
// returns for the Status-History field ({"Resolved": {"user": "Allen", "timestamp":
// "2014-12-01T12:48:03.000+0000"}}). On a declared form with a selection field
// 'Status' (or field ID 7) each key must be one of its option names or values and is
// stored as the option name.
func (c *Config) decodeStatusHistory(form string, raw map[string]any) (map[string]qualification.StatusEntry, error) {
	if raw == nil {
		return nil, nil
	}
	var status *qualification.Field
	if f, ok := c.Form(form); ok {
		fld, ok := f.Schema.Field("Status")
		if !ok {
			fld, ok = f.Schema.FieldByID(7)
		}
		if ok && fld.Type == qualification.Selection {
			status = fld
		}
	}
	out := make(map[string]qualification.StatusEntry, len(raw))
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		name := k
		if status != nil {
			v, err := decodeSelection(status, statusKey(k))
			if err != nil {
				return nil, fmt.Errorf("%q: %v", k, err)
			}
			name = v.(string)
		}
		m, ok := raw[k].(map[string]any)
		if !ok {
			return nil, fmt.Errorf(`%q: want {"user", "timestamp"}, got %s`, k, jsonType(raw[k]))
		}
		var e qualification.StatusEntry
		for _, mk := range slices.Sorted(maps.Keys(m)) {
			switch mk {
			case "user":
				s, ok := m[mk].(string)
				if !ok && m[mk] != nil {
					return nil, fmt.Errorf("%q: user must be a string, got %s", k, jsonType(m[mk]))
				}
				e.User = s
			case "timestamp":
				if m[mk] == nil {
					continue
				}
				t, err := arDateTime(m[mk], c.location())
				if err != nil {
					return nil, fmt.Errorf("%q: timestamp: %v", k, err)
				}
				e.Time = t
			default:
				return nil, fmt.Errorf("%q: unknown key %q (want user, timestamp)", k, mk)
			}
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%q: status %q is given twice", k, name)
		}
		out[name] = e
	}
	return out, nil
}

// statusKey reads a status-history key: an option value when it is all digits.
func statusKey(k string) any {
	if k != "" && strings.Trim(k, "0123456789") == "" {
		return json.Number(k)
	}
	return k
}
