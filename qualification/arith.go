package qualification

import (
	"math"
	"time"
)

// arithSpec is one bound arithmetic operation. Numbers follow integer
// arithmetic when both operands are integers (so / truncates) and real
// arithmetic otherwise; a date-time plus or minus a number shifts it by that
// many seconds; date-time minus date-time is seconds; + joins character values.
type arithSpec struct {
	op     Token
	search bool
	src    string
	pos    int
}

func (s *arithSpec) fail(msg string) *Error { return runtimeError(s.src, s.pos, msg) }

// eval applies the operator. In search mode NULL propagates; in workflow mode
// it is "" next to a character value and 0 otherwise.
func (s *arithSpec) eval(a, b any) any {
	if a == nil || b == nil {
		if s.search {
			return nil
		}
		if a == nil && b == nil {
			return int64(0)
		}
		if a == nil {
			a = zeroLike(b)
		} else {
			b = zeroLike(a)
		}
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok && s.op == ADD {
			return x + y
		}
	case time.Time:
		switch y := b.(type) {
		case time.Time:
			if s.op == SUB {
				return int64(x.Sub(y) / time.Second)
			}
		default:
			if i, f, isInt, ok := asNumber(y); ok && (s.op == ADD || s.op == SUB) {
				d := time.Duration(i) * time.Second
				if !isInt {
					d = time.Duration(f * float64(time.Second))
				}
				if s.op == SUB {
					d = -d
				}
				return x.Add(d)
			}
		}
	default:
		ai, af, aInt, ok := asNumber(a)
		if !ok {
			break
		}
		if y, ok := b.(time.Time); ok && s.op == ADD {
			return y.Add(time.Duration(af * float64(time.Second)))
		}
		bi, bf, bInt, ok := asNumber(b)
		if !ok {
			break
		}
		if aInt && bInt {
			return s.ints(ai, bi)
		}
		return s.floats(af, bf)
	}
	panic(s.fail("cannot apply " + s.op.String() + " to " + goTypeName(a) + " and " + goTypeName(b) + " values"))
}

func (s *arithSpec) ints(a, b int64) any {
	switch s.op {
	case ADD:
		return a + b
	case SUB:
		return a - b
	case MUL:
		return a * b
	case QUO:
		if b == 0 {
			panic(s.fail("division by zero"))
		}
		if a == math.MinInt64 && b == -1 {
			panic(s.fail("integer overflow"))
		}
		return a / b
	}
	if b == 0 {
		panic(s.fail("division by zero"))
	}
	if b == -1 {
		return int64(0)
	}
	return a % b
}

func (s *arithSpec) floats(a, b float64) any {
	switch s.op {
	case ADD:
		return a + b
	case SUB:
		return a - b
	case MUL:
		return a * b
	case QUO:
		if b == 0 {
			panic(s.fail("division by zero"))
		}
		return a / b
	}
	if b == 0 {
		panic(s.fail("division by zero"))
	}
	return math.Mod(a, b)
}

// neg is unary minus.
func (s *arithSpec) neg(a any) any {
	switch x := a.(type) {
	case nil:
		if s.search {
			return nil
		}
		return int64(0)
	case int64:
		return -x
	case float64:
		return -x
	}
	if i, f, isInt, ok := asNumber(a); ok {
		if isInt {
			return -i
		}
		return -f
	}
	panic(s.fail("cannot negate " + goTypeName(a) + " value"))
}

// zeroLike is NULL in workflow mode next to v: "" for character values, else 0.
func zeroLike(v any) any {
	if _, ok := v.(string); ok {
		return ""
	}
	return int64(0)
}
