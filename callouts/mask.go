package callouts

import "github.com/ruleflow/ruleflow/rules"

// Masked returns a copy of r fit to show in the HTTP API, the CLI and replay output:
// the URL through rules.MaskURL (no userinfo, credential-like query values such as
// api_key or X-Signature as "********") and the values of the headers marked
// secret: true as "********". Every surface that shows a rendered request uses it.
func (r *Request) Masked() *Request {
	if r == nil {
		return nil
	}
	m := *r
	m.URL = rules.MaskURL(r.URL)
	m.Header = rules.MaskHeaders(r.Header, r.SecretHeaders)
	return &m
}
