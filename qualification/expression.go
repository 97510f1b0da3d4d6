package qualification

import (
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr/vm"
)

// Expression is a compiled value expression: the value an AR System Set Fields
// action assigns to a field ('First Name' + " " + 'Last Name', $TIMESTAMP$ + 4*60*60,
// "Network", $NULL$). It is immutable and safe for concurrent use.
type Expression struct {
	src    string
	target *Field // nil without a schema
	loc    *time.Location
	fields []string

	isConst bool
	c       any            // the constant value, converted to the target's type
	load    func(*Env) any // a direct load (field reference, keyword)
	prog    *vm.Program    // everything else
	convert func(any) (any, string)
	pool    sync.Pool // of *vm.VM
}

// ParseValue parses a value expression: a literal, a field reference, a keyword,
// $NULL$, or arithmetic over them (+ - * / %, unary minus, parentheses). A
// condition (a comparison, AND, OR, NOT) is an error. The error is an *Error.
func ParseValue(src string) (Node, error) {
	if len(src) > MaxSourceLen {
		return nil, newError(src, MaxSourceLen, "expression too long: "+strconv.Itoa(len(src))+" bytes (limit "+strconv.Itoa(MaxSourceLen)+")")
	}
	if strings.TrimSpace(src) == "" {
		return nil, newError(src, len(src), "empty expression (write $NULL$ to clear a field)")
	}
	p := &parser{src: src, items: Lex(src)}
	return p.parseValueExpr()
}

// recoverBail, deferred by a parse function, turns the parser's bail panic
// into the returned error.
func recoverBail(n *Node, err *error) {
	if r := recover(); r != nil {
		b, ok := r.(bail)
		if !ok {
			panic(r)
		}
		*n, *err = nil, b.err
	}
}

func (p *parser) parseValueExpr() (n Node, err error) {
	defer recoverBail(&n, &err)
	n = p.parseAdditive()
	switch t := p.peek(); {
	case t.Tok == EOF:
	case t.Tok == RPAREN:
		p.failAt(t.Pos, "unbalanced parenthesis: ')' without '('")
	case t.Tok.IsComparison() || t.Tok == AND || t.Tok == OR:
		p.failAt(t.Pos, "a value expression cannot hold "+p.tokenText(t)+": set takes a value, not a condition")
	default:
		p.failAt(t.Pos, "unexpected "+p.tokenText(t)+" after a complete value (missing an operator?)")
	}
	if isCondition(n) {
		p.failAt(n.Pos(), "expected a value, found a condition")
	}
	return n, nil
}

// CompileValue compiles src as the value assigned to field target of
// opts.Schema (target nil: no schema, the value keeps the type it computes).
// The expression's type must fit the field: as in AR System, + joins character
// values, $NULL$ clears the field, a selection takes an option name or number
// (its AR value; its position when the field declares no values), a date-time
// takes a date-time, a date string or epoch seconds. Diary and currency fields
// cannot be set. Constants are converted once, here. The error is an *Error or
// an ErrorList.
func CompileValue(src string, target *Field, opts Options) (*Expression, error) {
	root, err := ParseValue(src)
	if err != nil {
		return nil, err
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	b := &binder{src: src, opts: opts, loc: opts.Location, names: make(map[string]bool)}
	v := b.bindValue(root)
	x := &Expression{src: src, target: target, loc: opts.Location}
	if v != nil {
		x.convert = b.fit(v, target)
	}
	if len(b.errs) > 0 {
		b.errs.Sort()
		return nil, b.errs.Err()
	}
	for name := range b.names {
		x.fields = append(x.fields, name)
	}
	slices.Sort(x.fields)
	switch {
	case v.isConst:
		c, msg := x.convert(v.c)
		if msg != "" {
			return nil, newError(src, v.pos, msg)
		}
		x.isConst, x.c = true, c
	case v.load != nil:
		x.load = v.load
	default:
		prog, cerr := compileExpr(src, v.node, reflect.Invalid)
		if cerr != nil {
			return nil, newError(src, 0, "internal error compiling expression: "+cerr.Error())
		}
		x.prog = prog
		x.pool.New = newVM
	}
	return x, nil
}

// Source returns the expression the program was compiled from.
func (x *Expression) Source() string { return x.src }

// Fields returns the names of the fields the expression reads, sorted.
func (x *Expression) Fields() []string { return slices.Clone(x.fields) }

// Eval computes the value against env, typed as the target field's record
// values are: string (character, and a selection's option name), int64,
// float64, time.Time, bool, or nil (NULL; an empty character value is NULL too).
// A run-time failure (division by zero, a value that does not fit the field) is
// an *Error pointing into the expression.
func (x *Expression) Eval(env *Env) (any, error) {
	if x.isConst {
		return x.c, nil
	}
	if env == nil {
		return nil, errors.New("qualification: Eval with nil Env")
	}
	var v any
	if x.load != nil {
		v = x.load(env)
	} else {
		out, err := runVM(&x.pool, x.prog, env, x.src)
		if err != nil {
			return nil, err
		}
		v = out
	}
	out, msg := x.convert(v)
	if msg != "" {
		return nil, newError(x.src, 0, msg)
	}
	return out, nil
}

// fit checks that a value of v's static type may be assigned to field f and
// returns the run-time conversion to f's record value type. It reports a
// mismatch and returns nil.
func (b *binder) fit(v *bval, f *Field) func(any) (any, string) {
	if f == nil {
		return func(a any) (any, string) {
			if s, ok := a.(string); ok && s == "" {
				return nil, ""
			}
			return a, ""
		}
	}
	loc := b.loc
	conv := func(a any) (any, string) { return convertTo(f, a, loc) }
	if f.Type == Diary || f.Type == Currency {
		// A diary is appended to and a currency has parts: not a single value.
		b.errorf(v.pos, "set cannot assign "+f.Type.String()+" field "+quoteField(f.Name)+" (not supported)")
		return conv
	}
	if v.t == tNull || v.t == tAny {
		return conv
	}
	ok := false
	switch f.Type {
	case Character:
		ok = v.t == tString || v.t.numeric() || v.t == tSel
	case Integer, Real, Decimal:
		ok = v.t == tInt || v.t == tReal && f.Type != Integer || v.isConst && v.t == tString
	case DateTime, Date:
		ok = v.t == tTime || v.t == tInt || v.isConst && v.t == tString
	case Time:
		ok = v.t == tTOD || v.t == tTime || v.t == tInt || v.isConst && v.t == tString
	case Selection:
		ok = v.t == tSel || v.t == tString || v.t == tInt
	case Boolean:
		ok = v.t == tBool || v.isConst && (v.t == tString || v.t == tInt)
	case Attachment:
		ok = v.t == tAttach
	}
	if !ok {
		b.errorf(v.pos, "cannot set "+f.Type.String()+" field "+quoteField(f.Name)+" to "+v.describe())
		return conv
	}
	if v.t == tString {
		// NULL + NULL computes 0 without knowing the operands were character.
		return func(a any) (any, string) {
			if i, ok := a.(int64); ok && i == 0 {
				return nil, ""
			}
			return conv(a)
		}
	}
	if v.t == tSel && v.field != nil {
		src := v.field
		return func(a any) (any, string) {
			if i, _, isInt, ok := asNumber(a); ok && isInt {
				if k := src.OptionByValue(i); k >= 0 {
					a = src.Options[k]
				}
			}
			return convertTo(f, a, loc)
		}
	}
	return conv
}

// convertTo converts a computed value to the record value of field f. The
// message is empty on success.
func convertTo(f *Field, a any, loc *time.Location) (any, string) {
	if a == nil {
		return nil, ""
	}
	bad := func() (any, string) {
		return nil, "cannot set " + f.Type.String() + " field " + quoteField(f.Name) + " to " + describeValue(a)
	}
	switch f.Type {
	case Character:
		switch x := a.(type) {
		case string:
			if x == "" {
				return nil, ""
			}
			return a, "" // already boxed: not again
		case int64:
			return strconv.FormatInt(x, 10), ""
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), ""
		}
		if i, _, isInt, ok := asNumber(a); ok && isInt {
			return strconv.FormatInt(i, 10), ""
		}
	case Integer:
		if s, ok := a.(string); ok {
			if i, _, isInt, ok := parseNumber(s); ok && isInt {
				return i, ""
			}
			return bad()
		}
		if i, _, isInt, ok := asNumber(a); ok && isInt {
			return i, ""
		}
	case Real, Decimal:
		if s, ok := a.(string); ok {
			if _, x, _, ok := parseNumber(s); ok {
				return x, ""
			}
			return bad()
		}
		if _, x, _, ok := asNumber(a); ok {
			return x, ""
		}
	case DateTime, Date:
		var t time.Time
		switch x := a.(type) {
		case time.Time:
			t = x
		case string:
			p, ok := ParseDateTime(x, loc)
			if !ok {
				return nil, "cannot set " + f.Type.String() + " field " + quoteField(f.Name) + " to " + describeValue(a) + " (want " + DateFormats + ", or epoch seconds)"
			}
			t = p
		default:
			i, _, isInt, ok := asNumber(a)
			if !ok || !isInt {
				return bad()
			}
			t = time.Unix(i, 0).In(loc)
		}
		if f.Type == Date {
			y, m, d := t.In(loc).Date()
			t = time.Date(y, m, d, 0, 0, 0, 0, loc)
		}
		return t, ""
	case Time:
		switch x := a.(type) {
		case time.Time:
			return secondsOfDay(x, loc), ""
		case string:
			if n, ok := parseTimeOfDay(x); ok {
				return n, ""
			}
			return bad()
		}
		if i, _, isInt, ok := asNumber(a); ok && isInt {
			return ((i % 86400) + 86400) % 86400, ""
		}
	case Selection:
		switch x := a.(type) {
		case string:
			if x == "" {
				return nil, ""
			}
			if i := f.OptionIndex(x); i >= 0 {
				return f.Options[i], ""
			}
			return nil, "unknown option " + strconv.Quote(x) + " for selection field " + quoteField(f.Name) + " (options: " + joinOptions(f.Options) + ")"
		}
		if i, _, isInt, ok := asNumber(a); ok && isInt {
			k := f.OptionByValue(i)
			switch {
			case k >= 0:
				return f.Options[k], ""
			case f.Values == nil:
				return nil, "selection index " + strconv.FormatInt(i, 10) + " out of range for field " + quoteField(f.Name) + " (0 to " + strconv.Itoa(len(f.Options)-1) + ")"
			}
			return nil, "selection value " + strconv.FormatInt(i, 10) + " is not an option of field " + quoteField(f.Name) + " (options: " + f.OptionValuesText() + ")"
		}
	case Boolean:
		switch x := a.(type) {
		case bool:
			return x, ""
		case string:
			if v, ok := parseBoolText(x); ok {
				return v, ""
			}
		case int64:
			if x == 0 || x == 1 {
				return x == 1, ""
			}
		}
	case Attachment:
		if _, ok := a.(string); !ok {
			if _, _, _, num := asNumber(a); !num {
				return a, ""
			}
		}
	}
	return bad()
}

// describeValue names a computed value in a message: "string \"x\"", "integer 5".
func describeValue(a any) string {
	switch x := a.(type) {
	case string:
		return "string " + strconv.Quote(x)
	case int64:
		return "integer " + strconv.FormatInt(x, 10)
	case float64:
		return "real " + strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return "date-time " + x.Format(time.RFC3339)
	case bool:
		return "bool " + strconv.FormatBool(x)
	}
	return goTypeName(a) + " value"
}

// SetFields returns the names of the fields set in the transaction, sorted:
// Input.Set, or the fields whose value differs between Before and After when
// Input.Set is nil. It is empty on delete.
func (e *Env) SetFields() []string {
	if e.deleted {
		return nil
	}
	e.setOnce.Do(e.computeSet)
	out := make([]string, 0, len(e.set))
	for name := range e.set {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// SameValue reports whether two record values are equal; times compare as
// instants. It is how a transaction decides that a field changed.
func SameValue(a, b any) bool { return sameValue(a, b) }

// Reads reports whether the qualification reads field name (in any view: plain,
// TR. or DB.). A qualification with EXTERNAL() may read any field: the
// qualification it reads from a field is known only at run time, so Reads
// reports true for every name. It does not allocate.
func (p *Program) Reads(name string) bool {
	if p.readsAll {
		return true
	}
	_, ok := slices.BinarySearch(p.fields, name)
	return ok
}

// runVM runs prog against env on a VM from pool. A run-time failure is the
// *Error a bound function panicked with, or an *Error wrapping the VM's.
func runVM(pool *sync.Pool, prog *vm.Program, env *Env, src string) (any, error) {
	m := pool.Get().(*vm.VM)
	out, err := m.Run(prog, env)
	pool.Put(m)
	if err != nil {
		var qe *Error
		if errors.As(err, &qe) {
			return nil, qe
		}
		return nil, &Error{Line: 1, Column: 1, Msg: "evaluation failed: " + err.Error(), Source: src}
	}
	return out, nil
}
