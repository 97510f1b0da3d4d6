package qualification

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// vtype is the static type of a value in a bound qualification.
type vtype uint8

const (
	tAny      vtype = iota // dynamically typed (no schema): decided per value at run time
	tString                // character, diary, and string keywords
	tInt                   // integer
	tReal                  // real and decimal
	tTime                  // datetime and date
	tTOD                   // time of day, seconds since midnight
	tSel                   // selection: compared by option index
	tBool                  // boolean
	tAttach                // attachment: only presence tests
	tNull                  // the $NULL$ literal
	tCurrency              // a whole currency field: only presence tests (compare its parts)
)

var vtypeNames = [...]string{
	tAny: "value", tString: "character", tInt: "integer", tReal: "real", tTime: "date-time",
	tTOD: "time", tSel: "selection", tBool: "bool", tAttach: "attachment", tNull: "$NULL$",
	tCurrency: "currency",
}

func (t vtype) String() string { return vtypeNames[t] }

func (t vtype) numeric() bool { return t == tInt || t == tReal }

// fieldVType maps a schema field type to its static type.
func fieldVType(t FieldType) vtype {
	switch t {
	case Character, Diary:
		return tString
	case Currency:
		return tCurrency
	case Integer:
		return tInt
	case Real, Decimal:
		return tReal
	case DateTime, Date:
		return tTime
	case Time:
		return tTOD
	case Selection:
		return tSel
	case Attachment:
		return tAttach
	case Boolean:
		return tBool
	}
	return tAny
}

// runtimeError is how evaluation failures leave the expr-lang VM: the
// function panics with it, the VM recovers and wraps it, and Program.Eval
// unwraps it again.
func runtimeError(src string, pos int, msg string) *Error { return newError(src, pos, msg) }

// goTypeName names the type of a record value for messages.
func goTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NULL"
	case string:
		return "character"
	case int64, int, int32, int16, int8, uint, uint64, uint32, uint16, uint8:
		return "integer"
	case float64, float32:
		return "real"
	case bool:
		return "bool"
	case time.Time:
		return "date-time"
	case *CurrencyValue:
		return "currency"
	case DiaryValue:
		return "diary"
	}
	return reflect.TypeOf(v).String()
}

// asNumber converts a numeric record value. isInt reports an integer.
func asNumber(v any) (i int64, f float64, isInt, ok bool) {
	switch x := v.(type) {
	case int64:
		return x, float64(x), true, true
	case float64:
		return 0, x, false, true
	case int:
		return int64(x), float64(x), true, true
	case int32:
		return int64(x), float64(x), true, true
	case int16:
		return int64(x), float64(x), true, true
	case int8:
		return int64(x), float64(x), true, true
	case uint8:
		return int64(x), float64(x), true, true
	case uint16:
		return int64(x), float64(x), true, true
	case uint32:
		return int64(x), float64(x), true, true
	case uint:
		if x <= math.MaxInt64 {
			return int64(x), float64(x), true, true
		}
		return 0, float64(x), false, true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), float64(x), true, true
		}
		return 0, float64(x), false, true
	case float32:
		return 0, float64(x), false, true
	}
	return 0, 0, false, false
}

// parseNumber reads a numeric string (surrounding blanks allowed).
func parseNumber(s string) (i int64, f float64, isInt, ok bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, float64(n), true, true
	}
	if x, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(x, 0) && !math.IsNaN(x) {
		return 0, x, false, true
	}
	return 0, 0, false, false
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpNumbers(ai int64, af float64, aInt bool, bi int64, bf float64, bInt bool) int {
	if aInt && bInt {
		return cmpInt(ai, bi)
	}
	return cmpFloat(af, bf)
}

// cmpStrings compares a and b, ignoring case when fold is set, without allocating.
func cmpStrings(a, b string, fold bool) int {
	if !fold {
		return strings.Compare(a, b)
	}
	for a != "" && b != "" {
		r1, n1 := utf8.DecodeRuneInString(a)
		r2, n2 := utf8.DecodeRuneInString(b)
		if r1 != r2 {
			l1, l2 := unicode.ToLower(r1), unicode.ToLower(r2)
			if l1 != l2 {
				if l1 < l2 {
					return -1
				}
				return 1
			}
		}
		a, b = a[n1:], b[n2:]
	}
	return cmpInt(int64(len(a)), int64(len(b)))
}

func cmpBools(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// holds applies a relational operator to the result of a three-way comparison.
func holds(op Token, c int) bool {
	switch op {
	case EQL:
		return c == 0
	case NEQ:
		return c != 0
	case LSS:
		return c < 0
	case LEQ:
		return c <= 0
	case GTR:
		return c > 0
	case GEQ:
		return c >= 0
	}
	return false
}

// flip returns the operator that gives the same result with operands swapped.
func flip(op Token) Token {
	switch op {
	case LSS:
		return GTR
	case LEQ:
		return GEQ
	case GTR:
		return LSS
	case GEQ:
		return LEQ
	}
	return op
}

// isNull reports whether v has no value. An empty string is NULL, as AR System
// stores an empty character value as NULL.
func isNull(v any) bool {
	if v == nil {
		return true
	}
	switch x := v.(type) {
	case string:
		return x == ""
	case DiaryValue:
		return len(x) == 0
	case *CurrencyValue:
		return x == nil
	}
	return false
}

// secondsOfDay returns the seconds since midnight of t in loc.
func secondsOfDay(t time.Time, loc *time.Location) int64 {
	t = t.In(loc)
	return int64(t.Hour()*3600 + t.Minute()*60 + t.Second())
}

func lower(s string) string { return strings.ToLower(s) }

// quoteField writes a field name as a qualification field reference.
func quoteField(name string) string { return "'" + strings.ReplaceAll(name, "'", "''") + "'" }
