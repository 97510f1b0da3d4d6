package qualification

import (
	"strconv"
	"strings"
	"time"
)

// view is which value of a field a reference reads (design §3).
type view uint8

const (
	viewCurrent view = iota // 'F': after the transaction (before it on delete)
	viewTR                  // 'TR.F': set in this transaction, else NULL
	viewDB                  // 'DB.F': stored before the transaction
)

// bval is a bound value operand: its static type and how to produce it.
type bval struct {
	t        vtype
	field    *Field // the schema field of a field reference
	pos, end int
	src      Node // the operand in the parsed tree, for messages

	isConst bool
	c       any // the constant (already converted to the other operand's type when compared)

	load func(*Env) any // for direct loads (field references, keywords): fused into comparisons
	node exprNode       // how the compiled program computes it
}

// binder resolves a parsed qualification against an optional schema and
// builds the expr-lang tree. Errors are collected, not fatal, so that one
// Compile reports every unknown field.
type binder struct {
	src   string
	opts  Options
	loc   *time.Location
	errs  ErrorList
	names map[string]bool // field names read, for Program.Fields
	ext   *externalState  // EXTERNAL nesting and cache
	// external is set when the qualification uses EXTERNAL(): the fields it
	// reads are then known only at run time.
	external bool
}

func (b *binder) errorf(pos int, msg string) {
	b.errs.Add(newError(b.src, pos, msg))
}

// bindValue binds a value operand. It returns nil after reporting an error.
func (b *binder) bindValue(n Node) *bval {
	switch n := n.(type) {
	case *ParenExpr:
		v := b.bindValue(n.X)
		if v != nil {
			v.pos, v.end = n.Pos(), n.End()
		}
		return v
	case *StringLit:
		return b.constant(tString, n.Value, n)
	case *NumberLit:
		if n.IsInt {
			return b.constant(tInt, n.Int, n)
		}
		return b.constant(tReal, n.Float, n)
	case *NullLit:
		return b.constant(tNull, nil, n)
	case *Keyword:
		return b.keyword(n)
	case *FieldRef:
		return b.fieldRef(n, n.Name, false)
	case *ValueRef:
		return b.fieldRef(n, n.Name, true)
	case *NegExpr:
		return b.neg(n)
	case *ArithExpr:
		return b.arith(n)
	}
	b.errorf(n.Pos(), "expected a value, found "+describe(n))
	return nil
}

func (b *binder) constant(t vtype, c any, n Node) *bval {
	return &bval{t: t, isConst: true, c: c, pos: n.Pos(), end: n.End(), src: n, node: constNode(c)}
}

func (b *binder) loadValue(t vtype, f *Field, n Node, load func(*Env) any) *bval {
	return &bval{t: t, field: f, pos: n.Pos(), end: n.End(), src: n, load: load, node: loadNode(load)}
}

// describe names the operand in an error message, such as
// "integer field 'Priority'" or "string \"high\"".
func (v *bval) describe() string {
	switch n := v.src.(type) {
	case *FieldRef, *ValueRef:
		if v.field != nil {
			return v.field.Type.String() + " field " + n.String()
		}
		if v.t != tAny { // a currency part or a status-history entry
			return v.t.String() + " field " + n.String()
		}
		return "field " + n.String()
	case *Keyword:
		return "keyword $" + n.Text + "$"
	case *StringLit:
		return "string " + n.String()
	case *NumberLit:
		return "number " + n.Text
	case *NullLit:
		return "$NULL$"
	case *NegExpr:
		if v.isConst {
			return "number " + describeConst(v.c)
		}
		return "negation"
	}
	if v.isConst {
		return "number " + describeConst(v.c)
	}
	return "arithmetic result"
}

func (b *binder) keyword(n *Keyword) *bval {
	loc := b.loc
	var t vtype
	var load func(*Env) any
	switch n.Name {
	case "USER":
		t, load = tString, func(e *Env) any { return e.keyword(kwUser) }
	case "SCHEMA":
		t, load = tString, func(e *Env) any { return e.keyword(kwSchema) }
	case "SERVER":
		t, load = tString, func(e *Env) any { return e.keyword(kwServer) }
	case "OPERATION":
		t, load = tString, func(e *Env) any { return e.keyword(kwOperation) }
	case "GROUPS":
		t, load = tString, func(e *Env) any { return e.keyword(kwGroups) }
	case "WEEKDAY":
		t, load = tString, func(e *Env) any { return e.zoned(loc).weekday }
	case "TIMESTAMP", "SERVERTIMESTAMP", "CURRENTTIMESTAMP", "TIME":
		t, load = tTime, func(e *Env) any { return e.keyword(kwTimestamp) }
	case "DATE":
		t, load = tTime, func(e *Env) any { return e.zoned(loc).date }
	default:
		b.errorf(n.Pos(), "keyword $"+n.Text+"$ is not supported in ruleflow qualifications")
		return nil
	}
	return b.loadValue(t, nil, n, load)
}

// resolve finds the field a reference names: exact name first, then a
// numeric ID, then a TR./DB. prefix with the rest resolved the same way.
func (b *binder) resolve(name string, allowPrefix bool) (*Field, view, bool) {
	s := b.opts.Schema
	if f, ok := s.Field(name); ok {
		return f, viewCurrent, true
	}
	if id, err := strconv.ParseInt(name, 10, 64); err == nil && allDigits(name) {
		if f, ok := s.FieldByID(id); ok {
			return f, viewCurrent, true
		}
	}
	if allowPrefix {
		for _, p := range []struct {
			prefix string
			v      view
		}{{"TR.", viewTR}, {"DB.", viewDB}} {
			if rest, ok := strings.CutPrefix(name, p.prefix); ok && rest != "" {
				if f, _, ok := b.resolve(rest, false); ok {
					return f, p.v, true
				}
			}
		}
	}
	return nil, 0, false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// fieldRef binds 'Name' (or $Name$ when dollar is set).
func (b *binder) fieldRef(n Node, name string, dollar bool) *bval {
	if v, done := b.statusHistory(n, name, dollar); done {
		return v
	}
	pos := n.Pos()
	ref := n.String()
	var f *Field
	v := viewCurrent
	t := tAny
	fieldName := name
	if b.opts.Schema == nil {
		switch {
		case !dollar:
			if rest, ok := strings.CutPrefix(name, "TR."); ok && rest != "" {
				v, fieldName = viewTR, rest
			} else if rest, ok := strings.CutPrefix(name, "DB."); ok && rest != "" {
				v, fieldName = viewDB, rest
			}
		case name == strings.ToUpper(name) && suggestKeyword(name) != "":
			b.errorf(pos, "unknown keyword "+ref+" (did you mean $"+suggestKeyword(name)+"$?)")
			return nil
		}
	} else {
		var ok bool
		f, v, ok = b.resolve(name, !dollar)
		if !ok {
			if cv, done := b.currencyPartRef(n, name, dollar); done {
				return cv
			}
			msg := "unknown field " + ref
			if dollar {
				if k := suggestKeyword(name); k != "" {
					msg += " (did you mean the keyword $" + k + "$?)"
				}
			} else if s := b.suggestField(name); s != "" {
				msg += " (did you mean " + quoteField(s) + "?)"
			}
			b.errorf(pos, msg)
			return nil
		}
		t, fieldName = fieldVType(f.Type), f.Name
	}
	if b.names != nil {
		b.names[fieldName] = true
	}
	load := b.fieldLoad(f, v, fieldName)
	if f == nil && !dollar {
		load = dynamicCurrencyPart(load, fieldName, v, b.fieldLoad)
	}
	return b.loadValue(t, f, n, load)
}

// fieldLoad returns the loader of field f (nil without a schema: the field named
// fieldName) as seen through view v.
func (b *binder) fieldLoad(f *Field, v view, fieldName string) func(*Env) any {
	var load func(*Env) any
	if s := b.opts.Schema; f != nil && len(s.Fields) <= maxSlotFields {
		i := s.byName[f.Name]
		switch v {
		case viewTR:
			load = func(e *Env) any { return e.table(s).trValues(e)[i] }
		case viewDB:
			load = func(e *Env) any { return e.table(s).db[i] }
		default:
			load = func(e *Env) any { return e.table(s).cur[i] }
		}
		return load
	}
	switch v {
	case viewTR:
		load = func(e *Env) any {
			if e.isSet(fieldName) {
				return e.after[fieldName]
			}
			return nil
		}
	case viewDB:
		load = func(e *Env) any { return e.db[fieldName] }
	default:
		load = func(e *Env) any { return e.cur[fieldName] }
	}
	return load
}

// suggestField returns a schema field whose name matches name ignoring case.
func (b *binder) suggestField(name string) string {
	for _, f := range b.opts.Schema.Fields {
		if strings.EqualFold(f.Name, name) {
			return f.Name
		}
	}
	for _, p := range []string{"TR.", "DB."} {
		if rest, ok := strings.CutPrefix(name, p); ok {
			if s := b.suggestField(rest); s != "" {
				return p + s
			}
		}
	}
	return ""
}

// neg binds unary minus.
func (b *binder) neg(n *NegExpr) *bval {
	x := b.bindValue(n.X)
	if x == nil {
		return nil
	}
	switch x.t {
	case tInt, tReal, tAny, tNull:
	default:
		b.errorf(n.Pos(), "cannot negate "+x.describe())
		return nil
	}
	spec := &arithSpec{op: SUB, search: b.opts.Nulls == Search, src: b.src, pos: n.Pos()}
	if x.isConst {
		v, err := foldConst(func() any { return spec.neg(x.c) })
		if err != nil {
			b.errs.Add(err)
			return nil
		}
		return &bval{t: constType(v), isConst: true, c: v, pos: n.Pos(), end: n.End(), src: n, node: constNode(v)}
	}
	return &bval{t: x.t, pos: n.Pos(), end: n.End(), src: n, node: callNode(spec.neg, x.node)}
}

// arith binds + - * / %.
func (b *binder) arith(n *ArithExpr) *bval {
	x, y := b.bindValue(n.X), b.bindValue(n.Y)
	if x == nil || y == nil {
		return nil
	}
	t, ok := arithType(n.Op, x, y)
	if !ok {
		b.errorf(n.OpPos, "cannot apply "+strconv.Quote(n.Op.String())+" to "+x.describe()+" and "+y.describe())
		return nil
	}
	// Literals next to a date-time or a number take its type.
	if x.t == tTime && y.isConst && y.t == tString || y.t == tTime && x.isConst && x.t == tString {
		b.errorf(n.OpPos, "cannot apply "+strconv.Quote(n.Op.String())+" to "+x.describe()+" and "+y.describe())
		return nil
	}
	if n.Op == QUO || n.Op == REM {
		if _, f, _, ok := asNumber(y.c); ok && y.isConst && f == 0 {
			b.errorf(n.OpPos, "division by zero")
			return nil
		}
	}
	spec := &arithSpec{op: n.Op, search: b.opts.Nulls == Search, src: b.src, pos: n.OpPos}
	if x.isConst && y.isConst {
		v, err := foldConst(func() any { return spec.eval(x.c, y.c) })
		if err != nil {
			b.errs.Add(err)
			return nil
		}
		return &bval{t: constType(v), isConst: true, c: v, pos: n.Pos(), end: n.End(), src: n, node: constNode(v)}
	}
	return &bval{t: t, pos: n.Pos(), end: n.End(), src: n, node: callNode2(spec.eval, x.node, y.node)}
}

// arithType is the static result type of x op y, and whether op applies.
func arithType(op Token, x, y *bval) (vtype, bool) {
	xt, yt := x.t, y.t
	if xt == tNull {
		xt = yt
	}
	if yt == tNull {
		yt = xt
	}
	switch {
	case xt == tNull: // both NULL
		return tNull, true
	case xt == tAny || yt == tAny:
		return tAny, true
	case xt.numeric() && yt.numeric():
		if xt == tReal || yt == tReal {
			return tReal, true
		}
		return tInt, true
	case xt == tTime && yt.numeric() && (op == ADD || op == SUB), xt.numeric() && yt == tTime && op == ADD:
		return tTime, true
	case xt == tTime && yt == tTime && op == SUB:
		return tInt, true
	case xt == tTOD && yt.numeric() && (op == ADD || op == SUB):
		return tTOD, true
	case xt == tString && yt == tString && op == ADD:
		return tString, true
	}
	return 0, false
}

// foldConst evaluates a constant operation at compile time, catching run-time errors.
func foldConst(f func() any) (v any, err *Error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			err = e
		}
	}()
	return f(), nil
}

// constType is the static type of a folded constant.
func constType(v any) vtype {
	switch v.(type) {
	case nil:
		return tNull
	case int64:
		return tInt
	case float64:
		return tReal
	case string:
		return tString
	case time.Time:
		return tTime
	}
	return tAny
}

func describeConst(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return strconv.Quote(x)
	case time.Time:
		return x.Format(time.RFC3339)
	}
	return "value"
}
