package qualification

// Token is the kind of a lexical token of the qualification language.
type Token int

// The tokens of the qualification language.
const (
	ILLEGAL Token = iota // an error; the item's text is the message
	EOF                  // end of input

	FIELD  // 'Field Name' (the text is the unquoted name)
	DOLLAR // $Name$ (the text is the name between the dollars)
	STRING // "text" (the text is the unquoted value)
	NUMBER // 123 or 1.5
	IDENT  // a bare word that is not an operator: always an error in a qualification
	LPAREN // (
	RPAREN // )
	AND    // AND &&
	OR     // OR ||
	NOT    // NOT !
	EQL    // =
	NEQ    // !=
	LSS    // <
	LEQ    // <=
	GTR    // >
	GEQ    // >=
	LIKE   // LIKE
	ADD    // +
	SUB    // -
	MUL    // *
	QUO    // /
	REM    // %
	maxToken
)

var tokenNames = [maxToken]string{
	ILLEGAL: "ILLEGAL", EOF: "end of qualification", FIELD: "field", DOLLAR: "$...$",
	STRING: "string", NUMBER: "number", IDENT: "word", LPAREN: "(", RPAREN: ")",
	AND: "AND", OR: "OR", NOT: "NOT", EQL: "=", NEQ: "!=", LSS: "<", LEQ: "<=",
	GTR: ">", GEQ: ">=", LIKE: "LIKE", ADD: "+", SUB: "-", MUL: "*", QUO: "/", REM: "%",
}

// String returns the spelling of an operator token or a description of the others.
func (t Token) String() string {
	if t >= 0 && t < maxToken {
		return tokenNames[t]
	}
	return "Token(" + itoaSmall(int(t)) + ")"
}

// IsComparison reports whether t is a relational operator (= != < <= > >= LIKE).
func (t Token) IsComparison() bool { return t >= EQL && t <= LIKE }

// IsArithmetic reports whether t is an arithmetic operator (+ - * / %).
func (t Token) IsArithmetic() bool { return t >= ADD && t <= REM }

func itoaSmall(n int) string {
	if n < 0 {
		return "-" + itoaSmall(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoaSmall(n/10) + string(rune('0'+n%10))
}

// Item is one lexical token with its byte offset in the source.
type Item struct {
	Tok Token  // the kind of token
	Pos int    // byte offset of the token's first character
	End int    // byte offset just after the token
	Val string // the decoded text: unquoted name or value, number digits, or the error message for ILLEGAL
}
