package qualification

import (
	"strconv"
	"strings"
)

// Node is a node of a parsed qualification. Every node knows the byte offsets
// of its first character and of the character just after it.
type Node interface {
	Pos() int       // offset of the first character
	End() int       // offset just after the last character
	String() string // the node in canonical qualification syntax, binary operations parenthesised
	node()
}

// LogicalExpr is X AND Y or X OR Y.
type LogicalExpr struct {
	X     Node
	Op    Token // AND or OR
	OpPos int
	Y     Node
}

// NotExpr is NOT X (also written !X); X is a comparison or a condition in parentheses.
type NotExpr struct {
	NotPos int
	X      Node
}

// CompareExpr is X op Y with op one of = != < <= > >= LIKE.
type CompareExpr struct {
	X     Node
	Op    Token
	OpPos int
	Y     Node
}

// ArithExpr is X op Y with op one of + - * / %.
type ArithExpr struct {
	X     Node
	Op    Token
	OpPos int
	Y     Node
}

// ExternalExpr is EXTERNAL('Field') or EXTERNAL($Field$): the field's value is a
// qualification, compiled and evaluated when the condition is.
type ExternalExpr struct {
	ExtPos, Rparen int
	X              Node // *FieldRef or *ValueRef
}

// NegExpr is unary minus: -X.
type NegExpr struct {
	MinusPos int
	X        Node
}

// ParenExpr is a condition or an arithmetic value in parentheses.
type ParenExpr struct {
	Lparen, Rparen int
	X              Node
}

// FieldRef is a quoted field reference 'Name', 'ID', 'TR.Name' or 'DB.Name'.
// Name is the text between the quotes with doubled quotes undone.
type FieldRef struct {
	NamePos, NameEnd int
	Name             string
}

// ValueRef is $Name$ or $ID$ that is not a keyword: the value of a field.
type ValueRef struct {
	NamePos, NameEnd int
	Name             string
}

// Keyword is a keyword such as $USER$ or $TIMESTAMP$. Name is the canonical
// spelling without dollars (SERVER-TIMESTAMP variants are normalised), such as "TIMESTAMP".
type Keyword struct {
	NamePos, NameEnd int
	Name             string
	Text             string // the spelling in the source, without dollars
}

// NullLit is $NULL$.
type NullLit struct {
	NullPos, NullEnd int
}

// StringLit is a string literal "text"; Value has doubled quotes undone.
type StringLit struct {
	ValuePos, ValueEnd int
	Value              string
}

// NumberLit is an unsigned integer or decimal literal.
type NumberLit struct {
	ValuePos, ValueEnd int
	Text               string  // as written
	IsInt              bool    // whether Text has no fraction
	Int                int64   // the value when IsInt
	Float              float64 // the value (also set when IsInt)
}

// Pos returns the offset of the first character of the LogicalExpr.
func (n *LogicalExpr) Pos() int { return n.X.Pos() }

// Pos returns the offset of the first character of the NotExpr.
func (n *NotExpr) Pos() int { return n.NotPos }

// Pos returns the offset of the first character of the CompareExpr.
func (n *CompareExpr) Pos() int { return n.X.Pos() }

// Pos returns the offset of the first character of the ArithExpr.
func (n *ArithExpr) Pos() int { return n.X.Pos() }

// Pos returns the offset of the first character of the ExternalExpr.
func (n *ExternalExpr) Pos() int { return n.ExtPos }

// End returns the offset just after the ExternalExpr.
func (n *ExternalExpr) End() int { return n.Rparen + 1 }

// String returns the ExternalExpr in canonical qualification syntax.
func (n *ExternalExpr) String() string { return "EXTERNAL(" + n.X.String() + ")" }

// Pos returns the offset of the first character of the NegExpr.
func (n *NegExpr) Pos() int { return n.MinusPos }

// Pos returns the offset of the first character of the ParenExpr.
func (n *ParenExpr) Pos() int { return n.Lparen }

// Pos returns the offset of the first character of the FieldRef.
func (n *FieldRef) Pos() int { return n.NamePos }

// Pos returns the offset of the first character of the ValueRef.
func (n *ValueRef) Pos() int { return n.NamePos }

// Pos returns the offset of the first character of the Keyword.
func (n *Keyword) Pos() int { return n.NamePos }

// Pos returns the offset of the first character of the NullLit.
func (n *NullLit) Pos() int { return n.NullPos }

// Pos returns the offset of the first character of the StringLit.
func (n *StringLit) Pos() int { return n.ValuePos }

// Pos returns the offset of the first character of the NumberLit.
func (n *NumberLit) Pos() int { return n.ValuePos }

// End returns the offset just after the LogicalExpr.
func (n *LogicalExpr) End() int { return n.Y.End() }

// End returns the offset just after the NotExpr.
func (n *NotExpr) End() int { return n.X.End() }

// End returns the offset just after the CompareExpr.
func (n *CompareExpr) End() int { return n.Y.End() }

// End returns the offset just after the ArithExpr.
func (n *ArithExpr) End() int { return n.Y.End() }

// End returns the offset just after the NegExpr.
func (n *NegExpr) End() int { return n.X.End() }

// End returns the offset just after the ParenExpr.
func (n *ParenExpr) End() int { return n.Rparen + 1 }

// End returns the offset just after the FieldRef.
func (n *FieldRef) End() int { return n.NameEnd }

// End returns the offset just after the ValueRef.
func (n *ValueRef) End() int { return n.NameEnd }

// End returns the offset just after the Keyword.
func (n *Keyword) End() int { return n.NameEnd }

// End returns the offset just after the NullLit.
func (n *NullLit) End() int { return n.NullEnd }

// End returns the offset just after the StringLit.
func (n *StringLit) End() int { return n.ValueEnd }

// End returns the offset just after the NumberLit.
func (n *NumberLit) End() int { return n.ValueEnd }

// String returns the LogicalExpr in canonical qualification syntax.
func (n *LogicalExpr) String() string { return binString(n.X, n.Op, n.Y) }

// String returns the NotExpr in canonical qualification syntax.
func (n *NotExpr) String() string { return "NOT " + n.X.String() }

// String returns the CompareExpr in canonical qualification syntax.
func (n *CompareExpr) String() string { return binString(n.X, n.Op, n.Y) }

// String returns the ArithExpr in canonical qualification syntax.
func (n *ArithExpr) String() string { return binString(n.X, n.Op, n.Y) }

// String returns the NegExpr in canonical qualification syntax.
func (n *NegExpr) String() string { return "-" + n.X.String() }

// String returns the ParenExpr in canonical qualification syntax.
func (n *ParenExpr) String() string { return n.X.String() }

// String returns the FieldRef in canonical qualification syntax.
func (n *FieldRef) String() string { return "'" + strings.ReplaceAll(n.Name, "'", "''") + "'" }

// String returns the ValueRef in canonical qualification syntax.
func (n *ValueRef) String() string { return "$" + n.Name + "$" }

// String returns the Keyword in canonical qualification syntax.
func (n *Keyword) String() string { return "$" + n.Name + "$" }

// String returns the NullLit in canonical qualification syntax.
func (n *NullLit) String() string { return "$NULL$" }

// String returns the StringLit in canonical qualification syntax.
func (n *StringLit) String() string { return `"` + strings.ReplaceAll(n.Value, `"`, `""`) + `"` }

// String returns the NumberLit in canonical qualification syntax.
func (n *NumberLit) String() string { return n.Text }

func binString(x Node, op Token, y Node) string {
	return "(" + x.String() + " " + op.String() + " " + y.String() + ")"
}

func (*LogicalExpr) node()  {}
func (*NotExpr) node()      {}
func (*CompareExpr) node()  {}
func (*ArithExpr) node()    {}
func (*NegExpr) node()      {}
func (*ExternalExpr) node() {}
func (*ParenExpr) node()    {}
func (*FieldRef) node()     {}
func (*ValueRef) node()     {}
func (*Keyword) node()      {}
func (*NullLit) node()      {}
func (*StringLit) node()    {}
func (*NumberLit) node()    {}

// isCondition reports whether n yields true or false (as opposed to a value).
func isCondition(n Node) bool {
	switch n := n.(type) {
	case *LogicalExpr, *NotExpr, *CompareExpr, *ExternalExpr:
		return true
	case *ParenExpr:
		return isCondition(n.X)
	}
	return false
}

// describe names a node for error messages: the token at its start.
func describe(n Node) string {
	switch n := n.(type) {
	case *FieldRef:
		return "field " + n.String()
	case *ValueRef:
		return "field value " + n.String()
	case *Keyword:
		return "keyword $" + n.Text + "$"
	case *NullLit:
		return "$NULL$"
	case *StringLit:
		return "string " + n.String()
	case *NumberLit:
		return "number " + n.Text
	case *ArithExpr:
		return "arithmetic " + strconv.Quote(n.Op.String())
	case *NegExpr:
		return "negation"
	case *ParenExpr:
		return describe(n.X)
	}
	return "condition"
}
