package callouts

import (
	"net/url"
	"strings"
)

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
		b.WriteString(url.QueryEscape(v.Name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(v.Value))
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
