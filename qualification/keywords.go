package qualification

import "strings"

// supportedKeywords are the keywords ruleflow evaluates, by canonical name
// (upper case, without '-' and '_').
var supportedKeywords = map[string]bool{
	"USER": true, "TIMESTAMP": true, "DATE": true, "TIME": true, "WEEKDAY": true,
	"SCHEMA": true, "SERVER": true, "OPERATION": true, "GROUPS": true,
	"SERVERTIMESTAMP": true, "CURRENTTIMESTAMP": true,
}

// otherKeywords are AR System keywords that have no meaning in a server-side
// rule engine (client-only or platform information); they are rejected.
var otherKeywords = map[string]bool{
	"HARDWARE": true, "OS": true, "DATABASE": true, "LASTID": true, "LASTCOUNT": true,
	"VERSION": true, "VUI": true, "GUIDETEXT": true, "FIELDHELP": true, "GUIDE": true,
	"APPLICATION": true, "LOCALE": true, "CLIENTTYPE": true, "SCHEMAALIAS": true,
	"ROWSELECTED": true, "ROWCHANGED": true, "BROWSER": true, "VUITYPE": true,
	"TCPPORT": true, "HOMEURL": true, "ROLES": true, "EVENTTYPE": true,
	"EVENTSRCWINID": true, "CURRENTWINID": true, "LASTOPENEDWINID": true,
	"INBULKTRANSACTION": true, "FIELDID": true, "FIELDNAME": true, "FIELDLABEL": true,
	"GROUPIDS": true, "EVENTDATA": true, "ERRNO": true, "ERRMSG": true,
	"ERRAPPENDMSG": true, "INCLIENTTRANSACTION": true, "DRAGSRCFIELDID": true,
	"DROPTGTFIELDID": true, "SHIFTKEY": true, "CTRLKEY": true, "ALTKEY": true,
	"AUTHSTRING": true, "ROWVISIBLE": true,
}

// canonicalKeyword returns the canonical name of the keyword spelled name
// (the text between the dollars) and whether it is a keyword at all. Keywords
// are written in upper case; '-' and '_' are interchangeable and optional, so
// $SERVER-TIMESTAMP$, $SERVER_TIMESTAMP$ and $SERVERTIMESTAMP$ are the same.
func canonicalKeyword(name string) (string, bool) {
	if name != strings.ToUpper(name) {
		return "", false
	}
	c := stripSeparators(name)
	if c == "NULL" || c == "DEFAULT" || supportedKeywords[c] || otherKeywords[c] {
		return c, true
	}
	return "", false
}

// stripSeparators removes the '-' and '_' of a keyword spelling. It allocates
// only when there is something to remove (compiling many rules calls it often).
func stripSeparators(name string) string {
	if !strings.ContainsAny(name, "-_") {
		return name
	}
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' {
			return -1
		}
		return r
	}, name)
}

// suggestKeyword returns the supported keyword closest to name (at most two
// edits away, ignoring case, '-' and '_'), or "".
func suggestKeyword(name string) string {
	c := stripSeparators(strings.ToUpper(name))
	if len(c) > 64 { // no keyword is near; bounds the work
		return ""
	}
	best, bestD := "", 3
	for _, k := range []string{"NULL", "USER", "TIMESTAMP", "DATE", "TIME", "WEEKDAY", "SCHEMA", "SERVER",
		"OPERATION", "GROUPS", "SERVERTIMESTAMP", "CURRENTTIMESTAMP"} {
		if d := EditDistance(c, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// EditDistance returns the Levenshtein distance between a and b, counted in bytes:
// the fewest single-byte insertions, deletions and substitutions that turn a into
// b. It takes time proportional to len(a)*len(b); callers bound their inputs.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
