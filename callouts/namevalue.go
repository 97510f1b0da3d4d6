package callouts

import (
	"net/url"
	"strings"
)

// appendFormEscaped appends s escaped for application/x-www-form-urlencoded, as
// url.QueryEscape does except that ':' is left as it is, so date-times read as in the
// Autotask seed (created_datetime=2021-11-20T10:43:34.9030000-05:00). ':' is legal
// in a query and every form decoder reads it back unchanged. Runs of characters
// kept as they are are appended at once.
func appendFormEscaped(b []byte, s string) []byte {
	const hexDigits = "0123456789ABCDEF"
	last := 0 // s[last:i] is kept as it is
	for i := 0; i < len(s); i++ {
		c := s[i]
		if formUnreserved(c) {
			continue
		}
		b = append(b, s[last:i]...)
		if c == ' ' {
			b = append(b, '+')
		} else {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&0xF])
		}
		last = i + 1
	}
	return append(b, s[last:]...)
}

// The characters appendFormEscaped keeps, as bit sets over the bytes 0–63 and
// 64–127: letters, digits, '-', '_', '.', '~' and ':'.
const (
	formKeepLow = 1<<'-' | 1<<'.' | 1<<':' |
		1<<'0' | 1<<'1' | 1<<'2' | 1<<'3' | 1<<'4' | 1<<'5' | 1<<'6' | 1<<'7' | 1<<'8' | 1<<'9'
	formKeepHigh = (1<<26-1)<<('A'-64) | (1<<26-1)<<('a'-64) | 1<<('_'-64) | 1<<('~'-64)
)

// formUnreserved reports whether appendFormEscaped keeps c as it is.
func formUnreserved(c byte) bool {
	if c < 64 {
		return uint64(formKeepLow)>>c&1 != 0
	}
	return c < 128 && uint64(formKeepHigh)>>(c-64)&1 != 0
}

// appendNameValue appends the standard data as id=8176&number=...&udf=... in
// standard order. NULL and empty values are written as an empty value ("udf=").
func appendNameValue(b []byte, std *stdData) []byte {
	for i := range std {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, std[i].Name...) // the standard names need no escape (TestStandardNamesPlain)
		b = append(b, '=')
		b = appendFormEscaped(b, std[i].Value)
	}
	return b
}

// nameValueSize is room for the standard data of a typical ticket, escaped.
func nameValueSize(std *stdData) int {
	n := 16
	for i := range std {
		n += len(std[i].Name) + len(std[i].Value) + 2
	}
	return n + n/4
}

// nameValueURL is the URL of a GET: query, the encoded standard data, is appended
// after the URL's own parameters (kept byte for byte); a fragment is dropped.
func nameValueURL(u url.URL, query string) string {
	q := u.RawQuery
	if q != "" && !strings.HasSuffix(q, "&") {
		q += "&"
	}
	u.RawQuery = q + query
	u.ForceQuery = false
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// nameValue encodes the standard data as id=8176&number=...&udf=... in standard
// order. GET appends it to the URL's query; POST sends it as an
// application/x-www-form-urlencoded body.
func (r *renderer) nameValue(req *Request, u *url.URL) error {
	std, err := r.standard()
	if err != nil {
		return err
	}
	body := appendNameValue(make([]byte, 0, nameValueSize(&std)), &std)
	if req.Method == "GET" {
		req.URL = nameValueURL(*u, string(body))
		return nil
	}
	req.Header["Content-Type"] = "application/x-www-form-urlencoded"
	req.Body = body
	return nil
}
