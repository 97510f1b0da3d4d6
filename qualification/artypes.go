package qualification

import (
	"strings"
	"time"
)

// CurrencyValue is the value of a currency field: the amount the user entered, its
// currency code, the date its functional amounts were converted at, and the amount in
// each functional currency of the server. A record holds a *CurrencyValue.
//
// In qualifications a currency field is read by part: 'Cost.VALUE' (Value, a real),
// 'Cost.TYPE' (Code), 'Cost.DATE' (ConversionDate) and 'Cost.USD' (the functional
// amount in USD; NULL when there is none).
type CurrencyValue struct {
	Value          float64
	Code           string
	ConversionDate time.Time // zero: not converted
	Functional     []FunctionalAmount
}

// FunctionalAmount is a currency field's amount in one functional currency.
type FunctionalAmount struct {
	Code  string
	Value float64
}

// FunctionalValue returns the amount in the functional currency code.
func (c *CurrencyValue) FunctionalValue(code string) (float64, bool) {
	for _, f := range c.Functional {
		if f.Code == code {
			return f.Value, true
		}
	}
	return 0, false
}

// DiaryEntry is one entry of a diary field: who wrote it, when, and the text.
type DiaryEntry struct {
	User      string
	Timestamp time.Time // zero: not stamped
	Text      string
}

// DiaryValue is the value of a diary field, its entries oldest first. Qualifications
// compare and match (LIKE) a diary as the texts of its entries joined by newlines.
type DiaryValue []DiaryEntry

// Text returns the entries' texts joined by newlines.
func (d DiaryValue) Text() string {
	switch len(d) {
	case 0:
		return ""
	case 1:
		return d[0].Text
	}
	var b strings.Builder
	for i, e := range d {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Text)
	}
	return b.String()
}

// StatusEntry is one entry of a record's status history: who set the status to a
// value, and when. Input.StatusHistory maps option names of the 'Status' field to
// entries; 'Status-History.Resolved.USER' and '.TIME' read them.
type StatusEntry struct {
	User string    `json:"user"`
	Time time.Time `json:"timestamp"`
}

// currencyPart is which part of a currency field a reference reads.
type currencyPart struct {
	kind byte   // 'V' value, 'T' type (code), 'D' conversion date, 'F' functional amount
	code string // the functional currency code when kind is 'F'
}

// parseCurrencyPart reads the suffix of 'Cost.VALUE' and the like: VALUE, TYPE,
// DATE, or a three-letter upper-case currency code.
func parseCurrencyPart(s string) (currencyPart, bool) {
	switch s {
	case "VALUE":
		return currencyPart{kind: 'V'}, true
	case "TYPE":
		return currencyPart{kind: 'T'}, true
	case "DATE":
		return currencyPart{kind: 'D'}, true
	}
	if len(s) == 3 && isUpper(s[0]) && isUpper(s[1]) && isUpper(s[2]) {
		return currencyPart{kind: 'F', code: s}, true
	}
	return currencyPart{}, false
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

// vtype is the static type of the part.
func (p currencyPart) vtype() vtype {
	switch p.kind {
	case 'T':
		return tString
	case 'D':
		return tTime
	}
	return tReal
}

// of returns the part of a currency value v (NULL when v is NULL, not a currency
// value, or has no such part).
func (p currencyPart) of(v any) any {
	c, ok := v.(*CurrencyValue)
	if !ok || c == nil {
		return nil
	}
	switch p.kind {
	case 'V':
		return c.Value
	case 'T':
		if c.Code == "" {
			return nil
		}
		return c.Code
	case 'D':
		if c.ConversionDate.IsZero() {
			return nil
		}
		return c.ConversionDate
	}
	if x, ok := c.FunctionalValue(p.code); ok {
		return x
	}
	return nil
}
