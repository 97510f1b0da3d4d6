package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DecodeArguments checks a callback function's arguments — the JSON object text, as
// in arguments={"name":"tom","id":123} — against its declared parameters and returns
// them as a record. Every declared parameter is required, an undeclared one is an
// error, and so is a value of the wrong type; the error names the parameter. Types:
// string; int (an integer, or a string holding one) → int64; float (a number, or a
// string holding one) → float64; bool (true/false, or "true"/"false") → bool; date
// (RFC 3339, "2006-01-02" or epoch seconds) → time.Time; map (an object) → its JSON
// text. Empty data means no arguments. DecodeEvent converts the values of a callback
// event the same way.
func DecodeArguments(params map[string]string, data []byte) (Record, error) {
	var args map[string]any
	if len(bytes.TrimSpace(data)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&args); err != nil {
			return nil, argumentsError(err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, errors.New("invalid arguments: unexpected data after the object")
		}
	}
	if len(args) > MaxCallbackParameters {
		return nil, fmt.Errorf("too many arguments: %d (at most %d)", len(args), MaxCallbackParameters)
	}
	var errs []string
	for k := range args {
		if _, ok := params[k]; !ok {
			errs = append(errs, fmt.Sprintf("unknown argument %q", k))
		}
	}
	slices.Sort(errs)
	rec := make(Record, len(params))
	for _, name := range slices.Sorted(maps.Keys(params)) {
		v, ok := args[name]
		if !ok {
			errs = append(errs, fmt.Sprintf("missing argument %q (%s)", name, params[name]))
			continue
		}
		v, err := convertArgument(params[name], v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("argument %q: %v", name, err))
			continue
		}
		rec[name] = v
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "; "))
	}
	return rec, nil
}

func argumentsError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Errorf(`invalid arguments: want an object such as {"name":"tom","id":123}, got %s`, te.Value)
	case errors.As(err, &se):
		return fmt.Errorf("invalid arguments: JSON syntax error at offset %d: %w", se.Offset, se)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("invalid arguments: unexpected end of JSON")
	}
	return fmt.Errorf("invalid arguments: %w", err)
}

// convertArgument converts one argument's JSON value (decoded with UseNumber) to
// its parameter type (see DecodeArguments).
func convertArgument(typ string, v any) (any, error) {
	str, isStr := v.(string)
	num, isNum := v.(json.Number)
	text := num.String() // the numeric text of a number or of a string holding one
	if isStr {
		text = strings.TrimSpace(str)
	}
	switch typ {
	case "string":
		if isStr {
			return str, nil
		}
		return nil, fmt.Errorf("want a string, got %s", jsonType(v))
	case "int":
		if isStr || isNum {
			if i, err := strconv.ParseInt(text, 10, 64); err == nil {
				return i, nil
			}
		}
		return nil, fmt.Errorf("want an integer, got %s", jsonType(v))
	case "float":
		if isStr || isNum {
			if f, err := strconv.ParseFloat(text, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return f, nil
			}
		}
		return nil, fmt.Errorf("want a number, got %s", jsonType(v))
	case "bool":
		switch {
		case v == true, isStr && strings.EqualFold(str, "true"):
			return true, nil
		case v == false, isStr && strings.EqualFold(str, "false"):
			return false, nil
		}
		return nil, fmt.Errorf("want true or false, got %s", jsonType(v))
	case "date":
		if isStr {
			if t, err := time.Parse(time.RFC3339Nano, str); err == nil {
				return t, nil
			}
			if t, err := time.Parse("2006-01-02", str); err == nil {
				return t, nil
			}
		}
		if isNum {
			if s, err := strconv.ParseInt(num.String(), 10, 64); err == nil && s > -1e11 && s < 1e11 {
				return time.Unix(s, 0).UTC(), nil
			}
		}
		return nil, fmt.Errorf("want a date (RFC 3339, 2006-01-02 or epoch seconds), got %s", jsonType(v))
	case "map":
		if m, ok := v.(map[string]any); ok {
			b, err := json.Marshal(m)
			if err != nil {
				return nil, err
			}
			return string(b), nil
		}
		return nil, fmt.Errorf("want an object, got %s", jsonType(v))
	}
	return nil, fmt.Errorf("parameter type %q is not supported", typ)
}
