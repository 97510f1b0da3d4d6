package qualification

import (
	"strconv"
	"strings"
)

// Limits that keep compilation of hostile input bounded. expr-lang's own node
// budget does not apply because programs are compiled from a hand-built AST.
const (
	MaxSourceLen = 64 << 10 // bytes of qualification text
	MaxNodes     = 10000    // nodes of the parsed tree
	maxDepth     = 200      // nesting of parentheses and operators
)

// parser is a recursive-descent parser over the items of Lex. Precedence,
// loosest first: OR, AND, NOT, comparison, + -, * / %, unary minus.
type parser struct {
	src   string
	items []Item
	i     int
	nodes int
	depth int
}

// bail is panicked with by the parser on the first error and recovered in Parse.
type bail struct{ err *Error }

// Parse parses a qualification into its syntax tree. The error, if any, is an
// *Error naming the position and the offending token. Parse never panics.
func Parse(src string) (Node, error) {
	if len(src) > MaxSourceLen {
		return nil, newError(src, MaxSourceLen, "qualification too long: "+strconv.Itoa(len(src))+" bytes (limit "+strconv.Itoa(MaxSourceLen)+")")
	}
	if strings.TrimSpace(src) == "" {
		return nil, newError(src, len(src), "empty qualification")
	}
	p := &parser{src: src, items: Lex(src)}
	return p.parse()
}

func (p *parser) parse() (n Node, err error) {
	defer recoverBail(&n, &err)
	n = p.parseOr()
	switch t := p.peek(); t.Tok {
	case EOF:
	case RPAREN:
		p.failAt(t.Pos, "unbalanced parenthesis: ')' without '('")
	default:
		p.failAt(t.Pos, "unexpected "+p.tokenText(t)+" after a complete condition (missing AND or OR?)")
	}
	if !isCondition(n) {
		p.failAt(n.Pos(), "expected a condition, found "+describe(n)+" (compare it with = != < <= > >= or LIKE)")
	}
	return n, nil
}

func (p *parser) failAt(off int, msg string) {
	panic(bail{newError(p.src, off, msg)})
}

// peek returns the current item, failing on a lexical error.
func (p *parser) peek() Item {
	it := p.items[p.i]
	if it.Tok == ILLEGAL {
		p.failAt(it.Pos, it.Val)
	}
	return it
}

func (p *parser) next() Item {
	it := p.peek()
	if it.Tok != EOF {
		p.i++
	}
	return it
}

// count accounts one more node and fails past MaxNodes.
func (p *parser) count(off int) {
	p.nodes++
	if p.nodes > MaxNodes {
		p.failAt(off, "qualification too complex: more than "+strconv.Itoa(MaxNodes)+" nodes")
	}
}

func (p *parser) enter(off int) {
	p.depth++
	if p.depth > maxDepth {
		p.failAt(off, "qualification nested too deeply (limit "+strconv.Itoa(maxDepth)+")")
	}
}

func (p *parser) leave() { p.depth-- }

// tokenText names an item for an error message.
func (p *parser) tokenText(it Item) string {
	switch it.Tok {
	case EOF:
		return "end of qualification"
	case FIELD, STRING, DOLLAR, NUMBER, IDENT:
		return strconv.Quote(p.src[it.Pos:it.End])
	}
	return strconv.Quote(it.Val)
}

func (p *parser) parseOr() Node {
	x := p.parseAnd()
	for p.peek().Tok == OR {
		op := p.next()
		p.needCondition(x, op)
		y := p.parseAnd()
		p.needConditionAfter(y, op)
		p.count(op.Pos)
		x = &LogicalExpr{X: x, Op: OR, OpPos: op.Pos, Y: y}
	}
	return x
}

func (p *parser) parseAnd() Node {
	x := p.parseNot()
	for p.peek().Tok == AND {
		op := p.next()
		p.needCondition(x, op)
		y := p.parseNot()
		p.needConditionAfter(y, op)
		p.count(op.Pos)
		x = &LogicalExpr{X: x, Op: AND, OpPos: op.Pos, Y: y}
	}
	return x
}

func (p *parser) needCondition(x Node, op Item) {
	if !isCondition(x) {
		p.failAt(x.Pos(), "operand of "+strings.ToUpper(op.Val)+" must be a condition, found "+describe(x))
	}
}

func (p *parser) needConditionAfter(y Node, op Item) {
	if !isCondition(y) {
		p.failAt(y.Pos(), "operand of "+strings.ToUpper(op.Val)+" must be a condition, found "+describe(y))
	}
}

// parseNot parses NOT applied to a whole comparison or parenthesised condition.
func (p *parser) parseNot() Node {
	if t := p.peek(); t.Tok == NOT {
		p.next()
		p.enter(t.Pos)
		x := p.parseNot()
		p.leave()
		if !isCondition(x) {
			p.failAt(x.Pos(), "operand of "+strings.ToUpper(t.Val)+" must be a condition, found "+describe(x))
		}
		p.count(t.Pos)
		return &NotExpr{NotPos: t.Pos, X: x}
	}
	return p.parseComparison()
}

func (p *parser) parseComparison() Node {
	x := p.parseAdditive()
	t := p.peek()
	if !t.Tok.IsComparison() {
		return x
	}
	p.next()
	if isCondition(x) {
		p.failAt(x.Pos(), "cannot compare a condition with "+strconv.Quote(t.Val))
	}
	y := p.parseAdditive()
	if isCondition(y) {
		p.failAt(y.Pos(), "cannot compare a condition with "+strconv.Quote(t.Val))
	}
	if t2 := p.peek(); t2.Tok.IsComparison() {
		p.failAt(t2.Pos, "chained comparison "+strconv.Quote(t2.Val)+" after "+strconv.Quote(t.Val)+" (combine comparisons with AND)")
	}
	p.count(t.Pos)
	return &CompareExpr{X: x, Op: t.Tok, OpPos: t.Pos, Y: y}
}

func (p *parser) parseAdditive() Node {
	x := p.parseMultiplicative()
	for {
		t := p.peek()
		if t.Tok != ADD && t.Tok != SUB {
			return x
		}
		p.next()
		y := p.parseMultiplicative()
		x = p.arith(x, t, y)
	}
}

func (p *parser) parseMultiplicative() Node {
	x := p.parseUnary()
	for {
		t := p.peek()
		if t.Tok != MUL && t.Tok != QUO && t.Tok != REM {
			return x
		}
		p.next()
		y := p.parseUnary()
		x = p.arith(x, t, y)
	}
}

func (p *parser) arith(x Node, op Item, y Node) Node {
	for _, n := range []Node{x, y} {
		if isCondition(n) {
			p.failAt(n.Pos(), "operand of "+strconv.Quote(op.Val)+" must be a value, found a condition")
		}
	}
	p.count(op.Pos)
	return &ArithExpr{X: x, Op: op.Tok, OpPos: op.Pos, Y: y}
}

func (p *parser) parseUnary() Node {
	if t := p.peek(); t.Tok == SUB {
		p.next()
		p.enter(t.Pos)
		x := p.parseUnary()
		p.leave()
		if isCondition(x) {
			p.failAt(x.Pos(), "operand of unary \"-\" must be a value, found a condition")
		}
		p.count(t.Pos)
		return &NegExpr{MinusPos: t.Pos, X: x}
	}
	return p.parsePrimary()
}

func (p *parser) parsePrimary() Node {
	t := p.next()
	p.count(t.Pos)
	switch t.Tok {
	case FIELD:
		return &FieldRef{NamePos: t.Pos, NameEnd: t.End, Name: t.Val}
	case STRING:
		return &StringLit{ValuePos: t.Pos, ValueEnd: t.End, Value: t.Val}
	case NUMBER:
		return p.number(t)
	case DOLLAR:
		return p.dollar(t)
	case LPAREN:
		p.enter(t.Pos)
		x := p.parseOr()
		p.leave()
		r := p.peek()
		if r.Tok != RPAREN {
			if r.Tok == EOF {
				p.failAt(t.Pos, "unbalanced parenthesis: '(' is never closed")
			}
			p.failAt(r.Pos, "unexpected "+p.tokenText(r)+" (missing ')' for the '(' at column "+strconv.Itoa(newError(p.src, t.Pos, "").Column)+"?)")
		}
		p.next()
		return &ParenExpr{Lparen: t.Pos, Rparen: r.Pos, X: x}
	case IDENT:
		switch strings.ToUpper(t.Val) {
		case "NULL":
			p.failAt(t.Pos, "bare NULL: write $NULL$")
		case "EXTERNAL":
			return p.external(t)
		}
		p.failAt(t.Pos, "unquoted field name "+t.Val+" (write '"+t.Val+"'; strings are written in double quotes)")
	case EOF:
		prev := p.items[max(p.i-1, 0)]
		if p.i == 0 || prev.Tok == EOF {
			p.failAt(t.Pos, "missing operand")
		}
		p.failAt(t.Pos, "missing operand after "+strconv.Quote(prev.Val))
	case RPAREN:
		p.failAt(t.Pos, "missing operand before ')'")
	}
	p.failAt(t.Pos, "missing operand before "+strconv.Quote(t.Val))
	return nil
}

func (p *parser) number(t Item) Node {
	n := &NumberLit{ValuePos: t.Pos, ValueEnd: t.End, Text: t.Val}
	if !strings.Contains(t.Val, ".") {
		v, err := strconv.ParseInt(t.Val, 10, 64)
		if err != nil {
			p.failAt(t.Pos, "integer "+t.Val+" out of range")
		}
		n.IsInt, n.Int, n.Float = true, v, float64(v)
		return n
	}
	f, err := strconv.ParseFloat(t.Val, 64)
	if err != nil {
		p.failAt(t.Pos, "number "+t.Val+" out of range")
	}
	n.Float = f
	return n
}

func (p *parser) dollar(t Item) Node {
	c, ok := canonicalKeyword(t.Val)
	switch {
	case !ok:
		return &ValueRef{NamePos: t.Pos, NameEnd: t.End, Name: t.Val}
	case c == "NULL":
		return &NullLit{NullPos: t.Pos, NullEnd: t.End}
	case c == "DEFAULT":
		p.failAt(t.Pos, "$"+t.Val+"$ is not allowed in a qualification")
	}
	return &Keyword{NamePos: t.Pos, NameEnd: t.End, Name: c, Text: t.Val}
}

// external parses EXTERNAL('Field') or EXTERNAL($Field$) after the word EXTERNAL.
func (p *parser) external(t Item) Node {
	l := p.next()
	if l.Tok != LPAREN {
		p.failAt(l.Pos, "EXTERNAL needs a field in parentheses: EXTERNAL('Field') or EXTERNAL($Field$), found "+p.tokenText(l))
	}
	f := p.next()
	var x Node
	switch f.Tok {
	case FIELD:
		x = &FieldRef{NamePos: f.Pos, NameEnd: f.End, Name: f.Val}
	case DOLLAR:
		x = p.dollar(f)
		if _, ok := x.(*ValueRef); !ok {
			p.failAt(f.Pos, "EXTERNAL needs a field, found "+describe(x))
		}
	default:
		p.failAt(f.Pos, "EXTERNAL needs a field: EXTERNAL('Field') or EXTERNAL($Field$), found "+p.tokenText(f))
	}
	r := p.next()
	if r.Tok != RPAREN {
		p.failAt(r.Pos, "missing ')' after the field of EXTERNAL, found "+p.tokenText(r))
	}
	p.count(t.Pos)
	return &ExternalExpr{ExtPos: t.Pos, Rparen: r.Pos, X: x}
}
