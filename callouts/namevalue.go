package callouts

import (
	"net/url"
	"strings"
)

// formEscape writes s escaped for application/x-www-form-urlencoded, as
// url.QueryEscape does except that ':' is left as it is, so date-times read as in the
// Autotask seed (created_datetime=2021-11-20T10:43:34.9030000-05:00). ':' is legal
// in a query and every form decoder reads it back unchanged.
func formEscape(b *strings.Builder, s string) {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == ':':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xF])
		}
	}
}

// nameValue encodes the standard data as id=8176&number=...&udf=... in standard
// order. GET appends it to the URL's query after the URL's own parameters (kept
// byte for byte); POST sends it as an application/x-www-form-urlencoded body. NULL
// and empty values are written as an empty value ("udf=").
func (r *renderer) nameValue(req *Request, u *url.URL) error {
	std, err := r.standard()
	if err != nil {
		return err
	}
	var b strings.Builder
	b.Grow(256)
	for i, v := range std {
		if i > 0 {
			b.WriteByte('&')
		}
		formEscape(&b, v.Name)
		b.WriteByte('=')
		formEscape(&b, v.Value)
	}
	if req.Method == "GET" {
		q := u.RawQuery
		if q != "" && !strings.HasSuffix(q, "&") {
			q += "&"
		}
		u.RawQuery = q + b.String()
		u.ForceQuery = false
		u.Fragment, u.RawFragment = "", ""
		req.URL = u.String()
		return nil
	}
	req.Header["Content-Type"] = "application/x-www-form-urlencoded"
	req.Body = []byte(b.String())
	return nil
}
