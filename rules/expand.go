package rules

import (
	"fmt"
	"strings"
)

// expandProblem is an error found while expanding environment references, at a byte
// offset of the unexpanded string.
type expandProblem struct {
	off int
	msg string
}

// expandEnv expands environment references in s:
//
//	${NAME}          the value of environment variable NAME; an error if it is not set
//	${NAME:-default} the value of NAME, or default when NAME is unset or empty
//	$${              a literal "${"
//
// Any other "$" is kept as is, so qualification keywords such as $USER$ need no
// escaping. NAME is a letter or underscore followed by letters, digits and underscores.
//
// expandEnv returns the result and, when it differs from s, idx: for every byte of the
// result the offset in s it came from (bytes of a substituted value map to the "$" of
// the reference).
func expandEnv(s string, lookup func(string) (string, bool)) (out string, idx []int, problems []expandProblem) {
	if !strings.Contains(s, "${") {
		return s, nil, nil
	}
	var b strings.Builder
	idx = make([]int, 0, len(s))
	emit := func(text string, from int) {
		b.WriteString(text)
		for range len(text) {
			idx = append(idx, from)
		}
	}
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			b.WriteString("${")
			idx = append(idx, i+1, i+2)
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			b.WriteByte(s[i])
			idx = append(idx, i)
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			problems = append(problems, expandProblem{i, `unterminated "${" (write "$${" for a literal "${")`})
			emit(s[i:], i)
			break
		}
		ref := s[i+2 : i+2+end]
		name, def, hasDef := strings.Cut(ref, ":-")
		if !validIdent(name) {
			problems = append(problems, expandProblem{i, fmt.Sprintf("invalid environment variable name %q in \"${%s}\"", name, ref)})
		} else if val, ok := lookup(name); ok && (val != "" || !hasDef) {
			emit(val, i)
		} else if hasDef {
			emit(def, i)
		} else {
			problems = append(problems, expandProblem{i, fmt.Sprintf("environment variable %s is not set (use ${%s:-default} for a default)", name, name)})
		}
		i += 2 + end + 1
	}
	return b.String(), idx, problems
}
