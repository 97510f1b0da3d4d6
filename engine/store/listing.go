package store

import "strings"

// conditions collects the WHERE conditions of a listing and their arguments, in
// the order the placeholders appear.
type conditions struct {
	conds []string
	args  []any
}

// add appends cond, whose placeholders take args.
func (c *conditions) add(cond string, args ...any) {
	c.conds = append(c.conds, cond)
	c.args = append(c.args, args...)
}

// where returns " WHERE c1 AND c2 …", or "" when there is no condition.
func (c *conditions) where() string {
	if len(c.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.conds, " AND ")
}

// listLimit is the page size of a listing that asked for n: 100 when n is not
// positive, at most 1000.
func listLimit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}
