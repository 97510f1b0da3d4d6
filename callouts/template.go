package callouts

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A template is an envelope compiled once per callout: the bytes the encoding
// library writes around the seven standard values, found by building the envelope
// with the library (beevik/etree for SOAP, kolo/xmlrpc for XML-RPC) around marker
// values. Filling it appends each value escaped exactly as that library escapes it,
// so the output is byte for byte the library's; the library stays the source of
// truth for everything but the values.
type template struct {
	// static[i] precedes value i; static[len(stdData{})] follows the last.
	static [len(stdData{}) + 1]string
	size   int // total length of static
	escape xmlEscape
	// intID: the id slot is an XML-RPC <int> filled with the decimal digits.
	intID bool
}

// xmlEscape names one library's way of escaping character data.
type xmlEscape uint8

const (
	// etreeText is beevik/etree's text escaping with WriteSettings.CanonicalText:
	// & < > and CR are escaped; quotes, tab and LF are written as they are.
	etreeText xmlEscape = iota
	// encodingXML is encoding/xml.EscapeText, which kolo/xmlrpc uses for strings:
	// quotes, & < >, tab, LF and CR are escaped.
	encodingXML
)

// templateMarker is the value placed in slot i while compiling: private-use
// characters, which no escaping touches and no envelope holds by itself.
func templateMarker(i int) string {
	return "\uE000ruleflow-slot-" + strconv.Itoa(i) + "\uE001"
}

// templateIntMarker is the id placed in an <int> slot while compiling.
const templateIntMarker = 1987654321

// compileTemplate builds the envelope with build around markers and splits it at
// them. It fails when a marker does not appear exactly once, in order — the
// library then stays in use for this callout.
func compileTemplate(build func(*stdData) ([]byte, error), escape xmlEscape, intID bool) (*template, error) {
	names := [...]string{StdID, StdNumber, StdStatus, StdCreatedDatetime, StdLastActivityDatetime, StdDomain, StdUDF}
	var std stdData
	var markers [len(stdData{})]string
	for i := range std {
		markers[i] = templateMarker(i)
		std[i] = stdValue{Name: names[i], Value: markers[i]}
	}
	if intID {
		std[0].Int, std[0].IsInt = templateIntMarker, true
		markers[0] = strconv.Itoa(templateIntMarker)
	}
	out, err := build(&std)
	if err != nil {
		return nil, err
	}
	t := &template{escape: escape, intID: intID}
	rest := string(out)
	for i, m := range markers {
		if strings.Count(rest, m) != 1 {
			return nil, fmt.Errorf("template: marker of %s not found exactly once", names[i])
		}
		t.static[i], rest, _ = strings.Cut(rest, m)
	}
	t.static[len(markers)] = rest
	for _, s := range t.static {
		t.size += len(s)
	}
	return t, nil
}

// fillSize is room for the envelope with the values of std and a few escapes
// (more grows the slice).
func (t *template) fillSize(std *stdData) int {
	n := t.size
	for i := range std {
		n += len(std[i].Value)
	}
	return n + 16
}

// fill appends the envelope with the values of std to b.
func (t *template) fill(b []byte, std *stdData) []byte {
	for i := range std {
		b = append(b, t.static[i]...)
		if i == 0 && t.intID {
			b = strconv.AppendInt(b, std[0].Int, 10)
			continue
		}
		b = t.escape.append(b, std[i].Value)
	}
	return append(b, t.static[len(std)]...)
}

// append appends s escaped the way the library named by x escapes it: invalid UTF-8
// and characters outside the XML 1.0 range become U+FFFD (one per invalid byte).
func (x xmlEscape) append(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		var esc string
		width := 1
		if c < utf8.RuneSelf {
			if x.plain(c) {
				i++
				continue
			}
			switch {
			case c == '&':
				esc = "&amp;"
			case c == '<':
				esc = "&lt;"
			case c == '>':
				esc = "&gt;"
			case c == '\r':
				esc = "&#xD;"
			case c == '"' && x == encodingXML:
				esc = "&#34;"
			case c == '\'' && x == encodingXML:
				esc = "&#39;"
			case c == '\t' && x == encodingXML:
				esc = "&#x9;"
			case c == '\n' && x == encodingXML:
				esc = "&#xA;"
			case c < 0x20 && c != '\t' && c != '\n':
				esc = "\uFFFD"
			default:
				i++
				continue
			}
		} else {
			r, w := utf8.DecodeRuneInString(s[i:])
			width = w
			if !(r == utf8.RuneError && w == 1) && xmlCharInRange(r) {
				i += w
				continue
			}
			esc = "\uFFFD"
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		i += width
		last = i
	}
	return append(b, s[last:]...)
}

// The ASCII characters below 64 that each escaping writes as they are (the
// ones from 64 to 127 are all written as they are): printable ones but & < > for
// etree, and but " ' too for encoding/xml. Tab and LF are left to the switch.
const (
	etreePlainLow = (1<<64 - 1) &^ (1<<0x20 - 1) &^ (1<<'&' | 1<<'<' | 1<<'>')
	xmlPlainLow   = etreePlainLow &^ (1<<'"' | 1<<'\'')
)

// plain reports whether the ASCII character c is written as it is, the common
// case tested before the switch of append.
func (x xmlEscape) plain(c byte) bool {
	if c >= 64 {
		return true
	}
	if x == encodingXML {
		return uint64(xmlPlainLow)>>c&1 != 0
	}
	return uint64(etreePlainLow)>>c&1 != 0
}

// xmlCharInRange reports whether r is a character of XML 1.0 (its Char production), as
// both libraries test it.
func xmlCharInRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}
