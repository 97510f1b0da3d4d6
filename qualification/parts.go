package qualification

import (
	"strconv"
	"strings"
)

// statusHistoryPrefix starts a status-history reference: 'Status-History.Resolved.TIME'.
const statusHistoryPrefix = "Status-History."

// statusFieldID is the ID of AR System's Status field, whose history
// 'Status-History' references read.
const statusFieldID = 7

// statusHistory binds 'Status-History.<status>.TIME' and '.USER'. done is false
// when name is no status-history reference (or a schema field has that very name).
func (b *binder) statusHistory(n Node, name string, dollar bool) (v *bval, done bool) {
	rest, ok := strings.CutPrefix(name, statusHistoryPrefix)
	if !ok || dollar {
		return nil, false
	}
	s := b.opts.Schema
	if s != nil {
		if _, exact := s.Field(name); exact {
			return nil, false
		}
	}
	i := strings.LastIndexByte(rest, '.')
	if i <= 0 || (rest[i+1:] != "TIME" && rest[i+1:] != "USER") {
		b.errorf(n.Pos(), "status-history reference "+n.String()+" must be 'Status-History.<status>.TIME' or '.USER'")
		return nil, true
	}
	status, part := rest[:i], rest[i+1:]
	if s != nil {
		f, ok := s.Field("Status")
		if !ok {
			f, ok = s.FieldByID(statusFieldID)
		}
		if !ok || f.Type != Selection {
			b.errorf(n.Pos(), "status-history reference "+n.String()+" needs a selection field 'Status' (field ID 7) on form "+strconv.Quote(s.Name))
			return nil, true
		}
		pos := optionIndex(f, status, b.opts.CaseInsensitive)
		if pos < 0 {
			if num, err := strconv.ParseInt(status, 10, 64); err == nil {
				pos = f.OptionByValue(num)
			}
		}
		if pos < 0 {
			b.errorf(n.Pos(), "status-history reference "+n.String()+": "+strconv.Quote(status)+" is not an option of selection field "+quoteField(f.Name)+" (options: "+joinOptions(f.Options)+")")
			return nil, true
		}
		status = f.Options[pos]
		if b.names != nil {
			b.names[f.Name] = true
		}
	}
	if part == "TIME" {
		return b.loadValue(tTime, nil, n, func(e *Env) any {
			if h, ok := e.in.StatusHistory[status]; ok && !h.Time.IsZero() {
				return h.Time
			}
			return nil
		}), true
	}
	return b.loadValue(tString, nil, n, func(e *Env) any {
		if h, ok := e.in.StatusHistory[status]; ok && h.User != "" {
			return h.User
		}
		return nil
	}), true
}

// currencyPartRef binds 'Cost.VALUE', 'Cost.TYPE', 'Cost.DATE' and 'Cost.USD' (also
// with a TR. or DB. prefix) against the schema. done is false when name does not
// end in a currency part; an error has been reported when done is true and v nil.
func (b *binder) currencyPartRef(n Node, name string, dollar bool) (v *bval, done bool) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 {
		return nil, false
	}
	part, ok := parseCurrencyPart(name[i+1:])
	if !ok {
		return nil, false
	}
	f, view, ok := b.resolve(name[:i], !dollar)
	if !ok {
		return nil, false
	}
	if f.Type != Currency {
		b.errorf(n.Pos(), "unknown field "+n.String()+" ("+quoteField(f.Name)+" is "+article(f.Type.String())+" field; only currency fields have the parts VALUE, TYPE, DATE and functional currency codes)")
		return nil, true
	}
	if b.names != nil {
		b.names[f.Name] = true
	}
	base := b.fieldLoad(f, view, f.Name)
	return b.loadValue(part.vtype(), nil, n, func(e *Env) any { return part.of(base(e)) }), true
}

// dynamicCurrencyPart extends the loader of a field read without a schema whose
// name ends in a currency part ('Cost.VALUE'): when the record has no field of
// that name, the part of the currency value of the base field ('Cost') is read.
func dynamicCurrencyPart(load func(*Env) any, name string, v view, fieldLoad func(*Field, view, string) func(*Env) any) func(*Env) any {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 {
		return load
	}
	part, ok := parseCurrencyPart(name[i+1:])
	if !ok {
		return load
	}
	base := fieldLoad(nil, v, name[:i])
	return func(e *Env) any {
		if x := load(e); x != nil {
			return x
		}
		return part.of(base(e))
	}
}

// article prefixes a type name with "a" or "an".
func article(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}
