package rules

import (
	"strconv"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// expandScalar expands environment references in text, the value of scalar node n,
// recording a positioned error for each problem.
func (d *decoder) expandScalar(n ast.Node, text string) string {
	if d.lookupEnv == nil {
		return text
	}
	out, _, problems := expandEnv(text, d.lookupEnv)
	for _, p := range problems {
		d.errorAtPos(d.valuePos(n, p.off), "%s", p.msg)
	}
	return out
}

// valuePos returns the position in the file of byte off of the value of scalar node n,
// or the node's own position when it cannot be mapped.
func (d *decoder) valuePos(n ast.Node, off int) Position {
	offs := d.valueOffsets(n)
	if offs == nil {
		return d.pos(n)
	}
	if off >= len(offs) {
		off = len(offs) - 1
	}
	if off < 0 {
		off = 0
	}
	return d.src.position(offs[off])
}

// valueOffsets maps each byte of the value of scalar node n to its offset in the
// source, for plain, single-quoted, double-quoted, literal (|) and folded (>) scalars.
// It returns nil when the value cannot be aligned with the source.
func (d *decoder) valueOffsets(n ast.Node) []int {
	var (
		value string
		start int
		style token.Type
	)
	switch v := n.(type) {
	case *ast.StringNode:
		tk := v.GetToken()
		if tk == nil || tk.Position == nil {
			return nil
		}
		value, style = v.Value, tk.Type
		start = d.src.offset(tk.Position.Line, tk.Position.Column)
		if style == token.SingleQuoteType || style == token.DoubleQuoteType {
			start++ // the opening quote
		}
	case *ast.LiteralNode:
		tk := v.GetToken()
		if tk == nil || tk.Position == nil || v.Value == nil {
			return nil
		}
		value, style = v.Value.Value, tk.Type
		if tk.Position.Line >= len(d.src.lines) {
			return nil
		}
		start = d.src.lines[tk.Position.Line] // the line after the header
	default:
		return nil
	}
	if value == "" {
		return []int{start}
	}
	return alignValue(d.src.text, start, value, style)
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// alignValue walks value and the source from start together. Equal bytes map to each
// other; folded whitespace (line breaks, indentation) in the source is skipped; quote
// escapes are decoded. It returns nil if the two cannot be aligned.
func alignValue(src []byte, start int, value string, style token.Type) []int {
	offs := make([]int, len(value))
	i, j := 0, start
	for i < len(value) && j < len(src) {
		c := src[j]
		switch {
		case style == token.SingleQuoteType && c == '\'' && j+1 < len(src) && src[j+1] == '\'' && value[i] == '\'':
			offs[i] = j
			i++
			j += 2
			continue
		case style == token.DoubleQuoteType && c == '\\' && j+1 < len(src):
			e := src[j+1]
			if e == '\n' || e == '\r' {
				j += 2
				for j < len(src) && (src[j] == ' ' || src[j] == '\t' || src[j] == '\n') {
					j++
				}
				continue
			}
			width := 0
			switch e {
			case 'x':
				width = 2
			case 'u':
				width = 4
			case 'U':
				width = 8
			}
			k := 1
			if width > 0 {
				if j+2+width > len(src) {
					return nil
				}
				r, err := strconv.ParseUint(string(src[j+2:j+2+width]), 16, 32)
				if err != nil {
					return nil
				}
				k = utf8.RuneLen(rune(r))
				if k < 1 {
					k = 3 // U+FFFD
				}
			}
			for m := 0; m < k && i < len(value); m++ {
				offs[i] = j
				i++
			}
			j += 2 + width
			continue
		}
		switch {
		case value[i] == c:
			offs[i] = j
			i++
			j++
		case isSpaceByte(value[i]) && isSpaceByte(c):
			offs[i] = j
			i++
			j++
		case isSpaceByte(c):
			j++
		default:
			return nil
		}
	}
	if i < len(value) {
		return nil
	}
	return offs
}
