package qualification

import (
	"strconv"
	"time"
)

// cmpClass is how a comparison converts its operands, decided when binding.
type cmpClass uint8

const (
	cmpPresence cmpClass = iota // = $NULL$ / != $NULL$
	cmpString
	cmpNumber
	cmpTime
	cmpTOD
	cmpSel
	cmpBool
	cmpLike
	cmpDynamic
)

// cmpSpec is one bound comparison. Its eval is what the compiled program calls.
type cmpSpec struct {
	class  cmpClass
	op     Token
	search bool // NullMode Search
	fold   bool // case-insensitive strings
	src    string
	pos    int            // operator offset, for run-time errors
	loc    *time.Location // zone for time-of-day conversion and date strings
	like   *likePattern   // constant LIKE pattern
	fx, fy *Field         // selection fields of the operands, when typed
	yTime  time.Time      // dynamic: the right-hand string constant read as a date-time
	yIsT   bool
}

func (s *cmpSpec) fail(msg string) *Error { return runtimeError(s.src, s.pos, msg) }

// eval compares a and b (values as loaded: nil is NULL).
func (s *cmpSpec) eval(a, b any) bool {
	switch s.class {
	case cmpPresence:
		return isNull(a) == (s.op == EQL)
	case cmpString:
		if a == nil || b == nil {
			if s.search {
				return false
			}
		}
		return holds(s.op, cmpStrings(s.str(a), s.str(b), s.fold))
	case cmpLike:
		if a == nil && s.search {
			return false
		}
		v := s.likeText(a, s.fx)
		if s.like != nil {
			return s.like.match(v)
		}
		if b == nil && s.search {
			return false
		}
		return compileLike(s.likeText(b, s.fy), s.fold).match(v)
	case cmpNumber:
		if (a == nil || b == nil) && s.search {
			return false
		}
		ai, af, aInt := s.num(a)
		bi, bf, bInt := s.num(b)
		return holds(s.op, cmpNumbers(ai, af, aInt, bi, bf, bInt))
	case cmpTime:
		if (a == nil || b == nil) && s.search {
			return false
		}
		return holds(s.op, s.time(a).Compare(s.time(b)))
	case cmpTOD:
		if (a == nil || b == nil) && s.search {
			return false
		}
		return holds(s.op, cmpInt(s.tod(a), s.tod(b)))
	case cmpSel:
		if (a == nil || b == nil) && s.search {
			return false
		}
		if s.op == EQL || s.op == NEQ {
			// An unknown option name is simply a different value.
			ai, aok := s.selIndex(a, s.fx)
			bi, bok := s.selIndex(b, s.fy)
			if !aok || !bok {
				return (s.op == NEQ) != (s.likeText(a, s.fx) == s.likeText(b, s.fy))
			}
			return holds(s.op, cmpInt(ai, bi))
		}
		return holds(s.op, cmpInt(s.index(a, s.fx), s.index(b, s.fy)))
	case cmpBool:
		if (a == nil || b == nil) && s.search {
			return false
		}
		return holds(s.op, cmpBools(s.boolean(a), s.boolean(b)))
	}
	return s.dynamic(a, b)
}

// str reads a character value; NULL is "" (workflow mode).
func (s *cmpSpec) str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case DiaryValue:
		return x.Text()
	}
	panic(s.fail("cannot compare " + goTypeName(v) + " value as character"))
}

// likeText reads the text LIKE matches: a character value or a selection's option name.
func (s *cmpSpec) likeText(v any, f *Field) string {
	if f != nil {
		if i, _, isInt, ok := asNumber(v); ok && isInt {
			if pos := f.OptionByValue(i); pos >= 0 {
				return f.Options[pos]
			}
			panic(s.fail(selectionValueError(f, i)))
		}
	}
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case DiaryValue:
		return x.Text()
	}
	panic(s.fail("LIKE needs a character value, found " + goTypeName(v)))
}

func (s *cmpSpec) num(v any) (int64, float64, bool) {
	if v == nil {
		return 0, 0, true
	}
	if i, f, isInt, ok := asNumber(v); ok {
		return i, f, isInt
	}
	if str, ok := v.(string); ok {
		if i, f, isInt, ok := parseNumber(str); ok {
			return i, f, isInt
		}
	}
	panic(s.fail("cannot compare " + goTypeName(v) + " value as a number"))
}

func (s *cmpSpec) time(v any) time.Time {
	switch x := v.(type) {
	case time.Time:
		return x
	case nil:
		return time.Unix(0, 0)
	case string:
		if t, ok := ParseDateTime(x, s.loc); ok {
			return t
		}
		panic(s.fail("cannot read " + strconv.Quote(x) + " as a date-time"))
	}
	if i, f, isInt, ok := asNumber(v); ok {
		if !isInt {
			i = int64(f)
		}
		return time.Unix(i, 0)
	}
	panic(s.fail("cannot compare " + goTypeName(v) + " value as a date-time"))
}

func (s *cmpSpec) tod(v any) int64 {
	switch x := v.(type) {
	case time.Time:
		return secondsOfDay(x, s.loc)
	case nil:
		return 0
	case string:
		if n, ok := parseTimeOfDay(x); ok {
			return n
		}
		panic(s.fail("cannot read " + strconv.Quote(x) + " as a time of day"))
	}
	if i, f, isInt, ok := asNumber(v); ok {
		if !isInt {
			i = int64(f)
		}
		return i
	}
	panic(s.fail("cannot compare " + goTypeName(v) + " value as a time of day"))
}

// selIndex is index without failing on a name that is not an option.
func (s *cmpSpec) selIndex(v any, f *Field) (int64, bool) {
	if str, ok := v.(string); ok && f != nil {
		i := optionIndex(f, str, s.fold)
		if i < 0 {
			return -1, false
		}
		return f.OptionValue(i), true
	}
	return s.index(v, f), true
}

// selectionValueError is the message for a number that is no option's value.
func selectionValueError(f *Field, v int64) string {
	if f.Values == nil {
		return "selection index " + strconv.FormatInt(v, 10) + " out of range for field " + quoteField(f.Name)
	}
	return "selection value " + strconv.FormatInt(v, 10) + " is not an option of field " + quoteField(f.Name)
}

// index reads a selection value as its option's value (an option name is mapped
// to its value; a number is taken as the value); NULL is -1.
func (s *cmpSpec) index(v any, f *Field) int64 {
	switch x := v.(type) {
	case nil:
		return -1
	case string:
		if f == nil {
			panic(s.fail("cannot compare character value " + strconv.Quote(x) + " with a selection index"))
		}
		if i := optionIndex(f, x, s.fold); i >= 0 {
			return f.OptionValue(i)
		}
		panic(s.fail(strconv.Quote(x) + " is not an option of selection field " + quoteField(f.Name)))
	}
	if i, _, isInt, ok := asNumber(v); ok && isInt {
		return i
	}
	panic(s.fail("cannot compare " + goTypeName(v) + " value as a selection"))
}

func (s *cmpSpec) boolean(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case nil:
		return false
	}
	if i, _, isInt, ok := asNumber(v); ok && isInt {
		return i != 0
	}
	panic(s.fail("cannot compare " + goTypeName(v) + " value as a bool"))
}

// dynamic compares values whose types are known only at run time (no schema).
func (s *cmpSpec) dynamic(a, b any) bool {
	if a == nil || b == nil {
		if s.search {
			return false
		}
		if a == nil && b == nil {
			return holds(s.op, 0)
		}
	}
	switch x := a.(type) {
	case string:
		switch y := b.(type) {
		case string:
			return holds(s.op, cmpStrings(x, y, s.fold))
		case nil:
			return holds(s.op, cmpStrings(x, "", s.fold))
		case time.Time:
			return holds(s.op, s.time(x).Compare(y))
		case bool:
			return holds(s.op, cmpBools(s.boolText(x), y))
		}
		if _, _, _, ok := asNumber(b); ok {
			if _, _, _, ok := parseNumber(x); !ok {
				return s.mismatch("cannot compare character value " + strconv.Quote(x) + " with a number")
			}
			return s.numbers(a, b)
		}
	case time.Time:
		switch y := b.(type) {
		case time.Time:
			return holds(s.op, x.Compare(y))
		case nil:
			return holds(s.op, x.Compare(time.Unix(0, 0)))
		case string:
			if s.yIsT {
				return holds(s.op, x.Compare(s.yTime))
			}
			return holds(s.op, x.Compare(s.time(y)))
		}
		if _, _, _, ok := asNumber(b); ok {
			return holds(s.op, x.Compare(s.time(b)))
		}
	case bool:
		switch y := b.(type) {
		case bool:
			return holds(s.op, cmpBools(x, y))
		case nil:
			return holds(s.op, cmpBools(x, false))
		case string:
			return holds(s.op, cmpBools(x, s.boolText(y)))
		}
	case nil:
		switch y := b.(type) {
		case string:
			return holds(s.op, cmpStrings("", y, s.fold))
		case time.Time:
			return holds(s.op, time.Unix(0, 0).Compare(y))
		case bool:
			return holds(s.op, cmpBools(false, y))
		}
		if _, _, _, ok := asNumber(b); ok {
			return s.numbers(a, b)
		}
	default:
		if _, _, _, ok := asNumber(a); ok {
			switch y := b.(type) {
			case string:
				if _, _, _, ok := parseNumber(y); !ok {
					return s.mismatch("cannot compare a number with character value " + strconv.Quote(y))
				}
				return s.numbers(a, b)
			case time.Time:
				return holds(s.op, s.time(a).Compare(y))
			case nil:
				return s.numbers(a, b)
			}
			if _, _, _, ok := asNumber(b); ok {
				return s.numbers(a, b)
			}
		}
	}
	return s.mismatch("cannot compare " + goTypeName(a) + " value with " + goTypeName(b) + " value")
}

// mismatch is the result of comparing values of unrelated types without a
// schema: = is false and != true, while an ordering is an error (msg).
func (s *cmpSpec) mismatch(msg string) bool {
	switch s.op {
	case EQL:
		return false
	case NEQ:
		return true
	}
	panic(s.fail(msg))
}

func (s *cmpSpec) numbers(a, b any) bool {
	ai, af, aInt := s.num(a)
	bi, bf, bInt := s.num(b)
	return holds(s.op, cmpNumbers(ai, af, aInt, bi, bf, bInt))
}

func (s *cmpSpec) boolText(x string) bool {
	if b, ok := parseBoolText(x); ok {
		return b
	}
	panic(s.fail("cannot compare character value " + strconv.Quote(x) + " with a bool"))
}

// parseBoolText reads true/false/yes/no/on/off/1/0, ignoring case.
func parseBoolText(x string) (bool, bool) {
	switch lower(x) {
	case "true", "yes", "on", "1":
		return true, true
	case "false", "no", "off", "0":
		return false, true
	}
	return false, false
}

// optionIndex returns the index of the option named name, or -1.
func optionIndex(f *Field, name string, fold bool) int {
	if i := f.OptionIndex(name); i >= 0 || !fold {
		return i
	}
	for i, o := range f.Options {
		if cmpStrings(o, name, true) == 0 {
			return i
		}
	}
	return -1
}
