package qualification

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// likePattern is a compiled LIKE pattern: '%' matches any run of characters,
// '_' exactly one, '[abc]' / '[a-f]' one from a set, '[^...]' one not in it. The
// whole value must match; there is no escape character; an unclosed '[' is a
// literal. Matching never uses regular expressions and runs in O(len(value) ×
// len(pattern)) time at worst, without allocating.
type likePattern struct {
	fold  bool       // case-insensitive
	kind  likeKind   // fast path
	lit   string     // literal for the fast paths
	elems []likeElem // general form
}

type likeKind int

const (
	likeGeneral  likeKind = iota
	likeExact             // no wildcard: whole value equals lit
	likeContains          // %lit%
	likePrefix            // lit%
	likeSuffix            // %lit
	likeAny               // % alone (or several): matches everything
)

type likeElemKind uint8

const (
	elemLit  likeElemKind = iota // one literal rune
	elemOne                      // _
	elemStar                     // %
	elemSet                      // [set] or [^set]
)

type likeElem struct {
	kind   likeElemKind
	r      rune        // elemLit
	neg    bool        // elemSet: [^...]
	ranges []runeRange // elemSet members (single runes are ranges of one)
}

type runeRange struct{ lo, hi rune }

// compileLike compiles pattern; fold makes matching case-insensitive.
func compileLike(pattern string, fold bool) *likePattern {
	p := &likePattern{fold: fold}
	for i := 0; i < len(pattern); {
		r, size := utf8.DecodeRuneInString(pattern[i:])
		switch r {
		case '%':
			if n := len(p.elems); n == 0 || p.elems[n-1].kind != elemStar {
				p.elems = append(p.elems, likeElem{kind: elemStar})
			}
			i += size
		case '_':
			p.elems = append(p.elems, likeElem{kind: elemOne})
			i += size
		case '[':
			if e, n, ok := parseLikeSet(pattern[i+1:]); ok {
				p.elems = append(p.elems, e)
				i += 1 + n
			} else { // unclosed '[': a literal
				p.elems = append(p.elems, likeElem{kind: elemLit, r: '['})
				i += size
			}
		default:
			p.elems = append(p.elems, likeElem{kind: elemLit, r: r})
			i += size
		}
	}
	p.classify()
	return p
}

// parseLikeSet parses the inside of a set after '['. It returns the element,
// the number of bytes consumed including the closing ']', and false when the
// set is never closed. A ']' right after '[' or '[^' is a member.
func parseLikeSet(s string) (likeElem, int, bool) {
	e := likeElem{kind: elemSet}
	i := 0
	if strings.HasPrefix(s, "^") {
		e.neg = true
		i++
	}
	first := true
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == ']' && !first {
			return e, i + size, true
		}
		first = false
		i += size
		lo, hi := r, r
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' {
			r2, size2 := utf8.DecodeRuneInString(s[i+1:])
			hi = r2
			i += 1 + size2
			if hi < lo {
				lo, hi = hi, lo
			}
		}
		e.ranges = append(e.ranges, runeRange{lo, hi})
	}
	return likeElem{}, 0, false
}

// classify picks a fast path for patterns of literals and '%' only.
func (p *likePattern) classify() {
	var b strings.Builder
	stars := 0
	for i, e := range p.elems {
		switch e.kind {
		case elemLit:
			b.WriteRune(e.r)
		case elemStar:
			if i != 0 && i != len(p.elems)-1 {
				return
			}
			stars++
		default:
			return
		}
	}
	p.lit = b.String()
	n := len(p.elems)
	switch {
	case n == stars: // only % (or empty pattern, which is exact "")
		if n == 0 {
			p.kind = likeExact
		} else {
			p.kind = likeAny
		}
	case stars == 0:
		p.kind = likeExact
	case stars == 2:
		p.kind = likeContains
	case p.elems[0].kind == elemStar:
		p.kind = likeSuffix
	default:
		p.kind = likePrefix
	}
}

// match reports whether the whole of s matches the pattern.
func (p *likePattern) match(s string) bool {
	switch p.kind {
	case likeAny:
		return true
	case likeExact:
		if p.fold {
			return strings.EqualFold(s, p.lit)
		}
		return s == p.lit
	case likeContains:
		if p.fold {
			return containsFold(s, p.lit)
		}
		return strings.Contains(s, p.lit)
	case likePrefix:
		if p.fold {
			return len(s) >= len(p.lit) && strings.EqualFold(s[:len(p.lit)], p.lit) || p.general(s)
		}
		return strings.HasPrefix(s, p.lit)
	case likeSuffix:
		if p.fold {
			return len(s) >= len(p.lit) && strings.EqualFold(s[len(s)-len(p.lit):], p.lit) || p.general(s)
		}
		return strings.HasSuffix(s, p.lit)
	}
	return p.general(s)
}

// general is the classic wildcard matcher: it advances through value and
// pattern together and, on a mismatch, backtracks only to the last '%'.
func (p *likePattern) general(s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		r, size := utf8.DecodeRuneInString(s[si:])
		if pi < len(p.elems) {
			e := &p.elems[pi]
			switch {
			case e.kind == elemStar:
				starP, starS = pi, si
				pi++
				continue
			case e.kind == elemOne, e.kind == elemLit && p.eqRune(e.r, r), e.kind == elemSet && p.inSet(e, r):
				pi++
				si += size
				continue
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last '%' swallow one more character and retry.
		_, size = utf8.DecodeRuneInString(s[starS:])
		starS += size
		si = starS
		pi = starP + 1
	}
	for pi < len(p.elems) && p.elems[pi].kind == elemStar {
		pi++
	}
	return pi == len(p.elems)
}

func (p *likePattern) eqRune(a, b rune) bool {
	return a == b || p.fold && foldEq(a, b)
}

// foldEq reports whether a and b are equal under Unicode simple case folding
// (as strings.EqualFold does), so Σ, σ and ς all match.
func foldEq(a, b rune) bool {
	if a == b {
		return true
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

func (p *likePattern) inSet(e *likeElem, r rune) bool {
	in := inRanges(e.ranges, r)
	if !in && p.fold {
		in = inRanges(e.ranges, unicode.ToLower(r)) || inRanges(e.ranges, unicode.ToUpper(r))
	}
	return in != e.neg
}

func inRanges(rs []runeRange, r rune) bool {
	for _, x := range rs {
		if x.lo <= r && r <= x.hi {
			return true
		}
	}
	return false
}

// containsFold reports whether substr is within s, ignoring case, without allocating.
func containsFold(s, substr string) bool {
	if substr == "" {
		return true
	}
	for i := 0; i+len(substr) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(substr)], substr) {
			return true
		}
	}
	// Case folding can change the byte length (e.g. 'K' vs the Kelvin sign);
	// fall back to rune-wise comparison at every rune start.
	for i := range s {
		if hasPrefixFold(s[i:], substr) {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	for prefix != "" {
		if s == "" {
			return false
		}
		r1, n1 := utf8.DecodeRuneInString(s)
		r2, n2 := utf8.DecodeRuneInString(prefix)
		if !foldEq(r1, r2) {
			return false
		}
		s, prefix = s[n1:], prefix[n2:]
	}
	return true
}
