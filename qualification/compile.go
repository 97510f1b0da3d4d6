package qualification

import (
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	exprparser "github.com/expr-lang/expr/parser"
)

// Options configure compilation.
type Options struct {
	Schema          *Schema        // nil: every field dynamically typed, any field name accepted
	Nulls           NullMode       // Workflow (default) or Search
	CaseInsensitive bool           // string =, !=, <, LIKE ignore case
	Location        *time.Location // zone for date-time literals and $DATE$/$TIME$/$WEEKDAY$; nil = UTC
}

// exprNode is a node of the expr-lang tree the compiler builds.
type exprNode = ast.Node

// Compile parses src, binds it to opts.Schema and compiles it to an expr-lang
// program. The error is a syntax *Error from Parse, or an ErrorList of the binding
// problems (every unknown field is reported, in source order).
func Compile(src string, opts Options) (*Program, error) {
	return compile(src, opts, &externalState{cache: new(externalCache)})
}

// compile is Compile of a qualification nested ext.depth levels in EXTERNAL().
func compile(src string, opts Options, ext *externalState) (*Program, error) {
	root, err := Parse(src)
	if err != nil {
		return nil, err
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	b := &binder{src: src, opts: opts, loc: opts.Location, names: make(map[string]bool), ext: ext}
	cond := b.bindCond(root)
	if len(b.errs) > 0 {
		b.errs.Sort()
		return nil, b.errs.Err()
	}
	direct := directCond(cond) // before the expr-lang checker patches the tree
	prog, cerr := compileExpr(src, cond, boolKind)
	if cerr != nil {
		return nil, newError(src, 0, "internal error compiling qualification: "+cerr.Error())
	}
	p := &Program{src: src, prog: prog, opts: opts, ext: ext, readsAll: b.external, direct: direct}
	for name := range b.names {
		p.fields = append(p.fields, name)
	}
	sortStrings(p.fields)
	p.readMask()
	p.pool.New = newVM
	return p, nil
}

// compileExpr runs the expr-lang checker and compiler over a hand-built tree
// (route (b) of libraries.md §1): there is no expr source text to parse. expect
// is the kind of the result (reflect.Invalid: any).
func compileExpr(src string, root ast.Node, expect reflect.Kind) (prog *programT, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &Error{Msg: "expr-lang: " + toString(r), Source: src, Line: 1, Column: 1}
		}
	}()
	// A minimal configuration: conf.CreateNew would copy every expr-lang
	// builtin into a map, and the tree calls none of them.
	cfg := &conf.Config{
		Expect:       expect,
		ShortCircuit: true,
		MaxNodes:     MaxNodes,
		ConstFns:     map[string]reflect.Value{},
		Functions:    conf.FunctionsTable{},
		Builtins:     conf.FunctionsTable{},
		Disabled:     map[string]bool{},
	}
	tree := &exprparser.Tree{Node: root, Source: file.NewSource(src)}
	if _, err := new(checker.Checker).PatchAndCheck(tree, cfg); err != nil {
		return nil, err
	}
	return compiler.Compile(tree, cfg)
}

func toString(r any) string {
	if e, ok := r.(error); ok {
		return e.Error()
	}
	if s, ok := r.(string); ok {
		return s
	}
	return "panic"
}

// constNode is a constant of the compiled program (already boxed once, so
// pushing it never allocates).
func constNode(c any) ast.Node { return &ast.ConstantNode{Value: c} }

// envNode is the evaluation environment: the *Env passed to Program.Eval.
func envNode() ast.Node { return &ast.IdentifierNode{Value: "$env"} }

// loadNode calls a loader with the Env. Functions with the signature
// func(any) any are called by the VM directly (OpCallTyped), without allocating.
func loadNode(load func(*Env) any) ast.Node {
	fn := func(e any) any { return load(e.(*Env)) }
	return &ast.CallNode{Callee: constNode(fn), Arguments: []ast.Node{envNode()}}
}

func callNode(f func(any) any, x ast.Node) ast.Node {
	return &ast.CallNode{Callee: constNode(f), Arguments: []ast.Node{x}}
}

func callNode2(f func(any, any) any, x, y ast.Node) ast.Node {
	return &ast.CallNode{Callee: constNode(f), Arguments: []ast.Node{x, y}}
}

func predNode(f func(any) bool, x ast.Node) ast.Node {
	return &ast.CallNode{Callee: constNode(f), Arguments: []ast.Node{x}}
}

func pred2Node(f func(any, any) bool, x, y ast.Node) ast.Node {
	return &ast.CallNode{Callee: constNode(f), Arguments: []ast.Node{x, y}}
}

// bindCond binds a condition and returns its expr-lang tree.
func (b *binder) bindCond(n Node) ast.Node {
	var out ast.Node
	switch n := n.(type) {
	case *ParenExpr:
		return b.bindCond(n.X)
	case *LogicalExpr:
		op := "and"
		if n.Op == OR {
			op = "or"
		}
		out = &ast.BinaryNode{Operator: op, Left: b.bindCond(n.X), Right: b.bindCond(n.Y)}
	case *NotExpr:
		out = &ast.UnaryNode{Operator: "not", Node: b.bindCond(n.X)}
	case *CompareExpr:
		out = b.bindCompare(n)
	case *ExternalExpr:
		out = b.bindExternal(n)
	default:
		b.errorf(n.Pos(), "expected a condition, found "+describe(n))
		out = constNode(false)
	}
	out.SetLocation(file.Location{From: n.Pos(), To: n.End()})
	return out
}

// bindCompare binds one comparison: it checks the operand types, converts
// literals to the type of the other operand (option names to indexes, date
// strings to times), and picks the comparison's class.
func (b *binder) bindCompare(n *CompareExpr) ast.Node {
	x, y := b.bindValue(n.X), b.bindValue(n.Y)
	if x == nil || y == nil {
		return constNode(false)
	}
	spec := &cmpSpec{op: n.Op, search: b.opts.Nulls == Search, fold: b.opts.CaseInsensitive, src: b.src, pos: n.OpPos, loc: b.loc}
	if n.Op == LIKE {
		return b.bindLike(spec, x, y)
	}
	// Keep constants on the right.
	if x.isConst && !y.isConst {
		x, y = y, x
		spec.op = flip(spec.op)
	}
	if x.t == tNull || y.t == tNull {
		if x.t == tNull && y.t == tNull {
			if spec.op == EQL || spec.op == NEQ { // a presence test of NULL
				return constNode(spec.op == EQL)
			}
			return constNode(!spec.search && holds(spec.op, 0))
		}
		if spec.op == EQL || spec.op == NEQ {
			spec.class = cmpPresence
			v := x
			if x.t == tNull {
				v = y
			}
			return b.emit(spec, v, nil)
		}
	}
	if y.isConst && y.t != tNull {
		var ok bool
		if y, ok = b.convertConst(y, x, spec); !ok {
			return constNode(false)
		}
	}
	if !b.classify(spec, x, y) {
		return constNode(false)
	}
	return b.emit(spec, x, y)
}

func (b *binder) bindLike(spec *cmpSpec, x, y *bval) ast.Node {
	for _, v := range []*bval{x, y} {
		switch v.t {
		case tString, tAny, tSel, tNull:
		default:
			b.errorf(v.pos, "LIKE needs character operands, found "+v.describe())
			return constNode(false)
		}
	}
	spec.class = cmpLike
	if x.t == tSel {
		spec.fx = x.field
	}
	if y.t == tSel {
		spec.fy = y.field
	}
	if s, ok := y.c.(string); ok && y.isConst {
		spec.like = compileLike(s, spec.fold)
	}
	return b.emit(spec, x, y)
}

// convertConst converts the constant c to the type of the operand it is compared with.
func (b *binder) convertConst(c, to *bval, spec *cmpSpec) (*bval, bool) {
	out := *c
	mismatch := func() (*bval, bool) {
		b.errorf(c.pos, "cannot compare "+to.describe()+" with "+c.describe())
		return nil, false
	}
	switch to.t {
	case tAny:
		if s, ok := c.c.(string); ok {
			spec.yTime, spec.yIsT = ParseDateTime(s, b.loc)
		}
		return &out, true
	case tSel:
		f := to.field
		switch v := c.c.(type) {
		case string:
			i := optionIndex(f, v, spec.fold)
			if i < 0 {
				b.errorf(c.pos, "unknown option "+strconv.Quote(v)+" for selection field "+quoteField(f.Name)+" (options: "+joinOptions(f.Options)+")")
				return nil, false
			}
			out.c = f.OptionValue(i)
		case int64:
			if f.OptionByValue(v) < 0 {
				if f.Values == nil {
					b.errorf(c.pos, "selection index "+strconv.FormatInt(v, 10)+" out of range for field "+quoteField(f.Name)+" (0 to "+strconv.Itoa(len(f.Options)-1)+")")
				} else {
					b.errorf(c.pos, "selection value "+strconv.FormatInt(v, 10)+" is not an option of field "+quoteField(f.Name)+" (options: "+f.OptionValuesText()+")")
				}
				return nil, false
			}
		default:
			return mismatch()
		}
		out.t, out.field = tSel, f
	case tTime:
		switch v := c.c.(type) {
		case string:
			t, ok := ParseDateTime(v, b.loc)
			if !ok {
				b.errorf(c.pos, "invalid date-time "+strconv.Quote(v)+" (want "+DateFormats+", or epoch seconds)")
				return nil, false
			}
			out.c = t
		case int64:
			out.c = time.Unix(v, 0)
		case time.Time:
		default:
			return mismatch()
		}
		out.t = tTime
	case tTOD:
		switch v := c.c.(type) {
		case string:
			n, ok := parseTimeOfDay(v)
			if !ok {
				b.errorf(c.pos, "invalid time of day "+strconv.Quote(v)+" (want 15:04:05 or 3:04 PM)")
				return nil, false
			}
			out.c = n
		case int64:
		case time.Time:
			out.c = secondsOfDay(v, b.loc)
		default:
			return mismatch()
		}
		out.t = tTOD
	case tInt, tReal:
		switch v := c.c.(type) {
		case string:
			i, f, isInt, ok := parseNumber(v)
			if !ok {
				return mismatch()
			}
			if isInt {
				out.c, out.t = i, tInt
			} else {
				out.c, out.t = f, tReal
			}
		case int64, float64:
		default:
			return mismatch()
		}
	case tBool:
		switch v := c.c.(type) {
		case string:
			bv, ok := parseBoolText(v)
			if !ok {
				return mismatch()
			}
			out.c = bv
		case int64:
			if v != 0 && v != 1 {
				return mismatch()
			}
			out.c = v == 1
		default:
			return mismatch()
		}
		out.t = tBool
	case tString:
		// The literal takes the type of the field (reference §3): '1' > 0 on a
		// character field compares with the text "0".
		switch v := c.c.(type) {
		case string:
		case int64:
			out.c, out.t = strconv.FormatInt(v, 10), tString
		case float64:
			out.c, out.t = strconv.FormatFloat(v, 'f', -1, 64), tString
		default:
			return mismatch()
		}
	case tCurrency:
		b.errorf(to.pos, currencyWholeError(to))
		return nil, false
	case tAttach:
		b.errorf(to.pos, to.describe()+" can only be compared with $NULL$")
		return nil, false
	default:
		if c.t != to.t {
			return mismatch()
		}
	}
	out.node = constNode(out.c)
	return &out, true
}

// currencyWholeError is the message for a whole currency field used as a value.
func currencyWholeError(v *bval) string {
	name := "Cost"
	if v.field != nil {
		name = v.field.Name
	}
	return v.describe() + " can only be compared with $NULL$; compare its parts " +
		quoteField(name+".VALUE") + ", " + quoteField(name+".TYPE") + ", " + quoteField(name+".DATE") + " or a functional amount such as " + quoteField(name+".USD")
}

func joinOptions(opts []string) string {
	s := ""
	for i, o := range opts {
		if i > 0 {
			s += ", "
		}
		s += o
	}
	return s
}

// classify picks the comparison class for two (converted) operands.
func (b *binder) classify(spec *cmpSpec, x, y *bval) bool {
	xt, yt := x.t, y.t
	if xt == tNull {
		xt = yt
	}
	if yt == tNull {
		yt = xt
	}
	mismatch := func() bool {
		b.errorf(y.pos, "cannot compare "+x.describe()+" with "+y.describe())
		return false
	}
	has := func(t vtype) bool { return xt == t || yt == t }
	other := func(t vtype) vtype {
		if xt == t {
			return yt
		}
		return xt
	}
	switch {
	case has(tCurrency):
		v := x
		if yt == tCurrency {
			v = y
		}
		b.errorf(v.pos, currencyWholeError(v))
		return false
	case has(tAttach):
		v := x
		if yt == tAttach {
			v = y
		}
		b.errorf(v.pos, v.describe()+" can only be compared with $NULL$")
		return false
	case has(tSel):
		switch other(tSel) {
		case tSel, tString, tInt, tAny:
		default:
			return mismatch()
		}
		spec.class, spec.fx, spec.fy = cmpSel, x.field, y.field
		if xt != tSel {
			spec.fx = y.field
		}
		if yt != tSel {
			spec.fy = x.field
		}
	case has(tTOD):
		switch other(tTOD) {
		case tTOD, tInt, tReal, tTime, tAny:
		default:
			return mismatch()
		}
		spec.class = cmpTOD
	case has(tTime):
		switch other(tTime) {
		case tTime, tInt, tReal, tAny:
		default:
			return mismatch()
		}
		spec.class = cmpTime
	case xt.numeric() || yt.numeric():
		if !(xt.numeric() || xt == tAny) || !(yt.numeric() || yt == tAny) {
			return mismatch()
		}
		spec.class = cmpNumber
		if xt == tAny || yt == tAny {
			spec.class = cmpDynamic
		}
	case has(tBool):
		if other(tBool) != tBool && other(tBool) != tAny {
			return mismatch()
		}
		spec.class = cmpBool
	case xt == tString && yt == tString:
		spec.class = cmpString
	default:
		spec.class = cmpDynamic
	}
	return true
}

// emit builds the call of a bound comparison. A field or keyword compared
// with a constant becomes one call of a fused func(env) bool; anything else
// computes both operands in the program and calls func(x, y) bool.
func (b *binder) emit(spec *cmpSpec, x, y *bval) ast.Node {
	if y == nil { // presence test
		want := spec.op == EQL
		if x.isConst {
			return constNode(isNull(x.c) == want)
		}
		if load := x.load; load != nil {
			return predNode(func(e any) bool { return isNull(load(e.(*Env))) == want }, envNode())
		}
		return predNode(func(v any) bool { return isNull(v) == want }, x.node)
	}
	if x.isConst && y.isConst {
		var res bool
		_, err := foldConst(func() any { res = spec.eval(x.c, y.c); return nil })
		if err != nil {
			b.errs.Add(err)
		}
		return constNode(res)
	}
	if load := x.load; load != nil && y.isConst {
		c := y.c
		if fast := fastPred(spec, load, c); fast != nil {
			return predNode(fast, envNode())
		}
		return predNode(func(e any) bool { return spec.eval(load(e.(*Env)), c) }, envNode())
	}
	return pred2Node(spec.eval, x.node, y.node)
}

// fastPred returns a specialised predicate for the most common comparisons of
// a field with a constant: it handles the usual record value type directly and
// leaves everything else (NULL, other types, errors) to spec.eval. It returns
// nil when no specialisation applies.
func fastPred(spec *cmpSpec, load func(*Env) any, c any) func(any) bool {
	op := spec.op
	switch spec.class {
	case cmpLike:
		like := spec.like
		if like == nil {
			return nil
		}
		return func(e any) bool {
			v := load(e.(*Env))
			if s, ok := v.(string); ok {
				return like.match(s)
			}
			return spec.eval(v, c)
		}
	case cmpString, cmpDynamic:
		if cs, ok := c.(string); ok && !spec.fold {
			return func(e any) bool {
				v := load(e.(*Env))
				if s, ok := v.(string); ok {
					return holds(op, strings.Compare(s, cs))
				}
				return spec.eval(v, c)
			}
		}
		fallthrough
	case cmpNumber:
		switch cn := c.(type) {
		case int64:
			return func(e any) bool {
				v := load(e.(*Env))
				if i, ok := v.(int64); ok {
					return holds(op, cmpInt(i, cn))
				}
				return spec.eval(v, c)
			}
		case float64:
			return func(e any) bool {
				switch x := load(e.(*Env)).(type) {
				case float64:
					return holds(op, cmpFloat(x, cn))
				case int64:
					return holds(op, cmpFloat(float64(x), cn))
				default:
					return spec.eval(x, c)
				}
			}
		}
	case cmpSel:
		ci, ok := c.(int64)
		if !ok || spec.fy == nil || (op != EQL && op != NEQ) {
			return nil
		}
		pos := spec.fy.OptionByValue(ci)
		if pos < 0 {
			return nil
		}
		name, eq, fold := spec.fy.Options[pos], op == EQL, spec.fold
		return func(e any) bool {
			v := load(e.(*Env))
			switch x := v.(type) {
			case string:
				if x != "" {
					// A different name is a different option (or none).
					return (x == name || fold && strings.EqualFold(x, name)) == eq
				}
			case int64:
				return (x == ci) == eq
			}
			return spec.eval(v, c)
		}
	}
	return nil
}
