package rules

import (
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/textproto"
	"slices"
	"strings"
)

// This file holds the single judge of a callout definition: judgeCallout. Every
// path that accepts a callout calls it — the loader for the file's callouts and for
// the callouts its webhooks become (so `ruleflow check` and SIGHUP reload too),
// CompileWebhook for every webhook registered or replaced through the API and for
// the registered webhooks read back from the store, and callouts.Render through
// CheckCallout before it encodes a request. So whatever is accepted renders: the
// only errors left to Render are data-dependent ones (an id value that is not an
// integer), and those name the value.

// CheckCallout judges a callout definition as it will be rendered: its URL, method,
// format, SOAP/XML-RPC method and action, credentials, headers and signing secret.
// It returns nil, or an error describing the first problem. It does not apply
// defaults (an empty method means POST). callouts.Render calls it, and the loader
// and CompileWebhook apply the same judge, so a definition they accept never fails
// to render for a reason of its own.
func CheckCallout(c *Callout) error {
	if ps := judgeCallout(c); len(ps) > 0 {
		return errors.New(ps[0].msg)
	}
	return nil
}

// CheckURL returns nil if raw is an absolute http or https URL without embedded
// credentials, or an error saying what is wrong (never repeating the URL).
func CheckURL(raw string) error {
	if msg := urlProblem(raw); msg != "" {
		return errors.New(msg)
	}
	return nil
}

// ForbiddenHeader reports whether a callout may not set the header name (in any
// spelling): Authorization, Proxy-Authorization, Content-Length, Transfer-Encoding,
// Connection and Host.
func ForbiddenHeader(name string) bool {
	_, bad := forbiddenHeader(textproto.CanonicalMIMEHeaderKey(name))
	return bad
}

// judge is where the loader and CompileWebhook call judgeCallout. The egress
// guard's refusal of literal addresses in API registrations is not here: it needs
// the dialer's address rules (callouts/egress), which this package cannot import,
// so the HTTP API applies it on every webhook write before CompileWebhook.
func (cfg *Config) judge(c *Callout) []problem {
	return judgeCallout(c)
}

// judgeCallout reports every problem of a callout definition, with paths relative
// to the callout ("headers.Host#key"). It allocates only when there is a problem.
func judgeCallout(c *Callout) []problem {
	var out []problem
	add := func(path, format string, args ...any) {
		out = append(out, problem{path, fmt.Sprintf(format, args...)})
	}
	if msg := urlProblem(c.URL); msg != "" {
		add("url", "%s", msg)
	}
	method := strings.ToUpper(strings.TrimSpace(c.Method))
	switch method {
	case "", "GET", "POST":
	default:
		add("method", "unsupported method %q (want GET or POST)", c.Method)
	}
	switch c.Format {
	case FormatNameValue, FormatSOAP, FormatXMLRPC, FormatJSON:
	case "":
		add("format", "format must not be empty (want name-value, soap, xmlrpc or json)")
	default:
		add("format", "unknown format %q (want name-value, soap, xmlrpc or json)", c.Format)
	}
	switch {
	case (c.Format == FormatSOAP || c.Format == FormatXMLRPC) && c.MethodName == "":
		add("format", "format %s needs method_name", c.Format)
	case c.Format == FormatSOAP && !ValidXMLName(c.MethodName):
		add("method_name", "soap method_name %q is not a valid XML element name", c.MethodName)
	case c.Format == FormatXMLRPC && !ValidXMLRPCMethod(c.MethodName):
		add("method_name", "xmlrpc method_name %q may only use A-Z a-z 0-9 _ . : /", c.MethodName)
	}
	switch {
	case c.Format == FormatSOAP && c.SOAPAction == "":
		add("format", "format soap needs soap_action")
	case c.SOAPAction != "" && c.Format != FormatSOAP && c.Format != "":
		add("soap_action", "soap_action is only used with format soap (this callout is %s)", c.Format)
	case strings.ContainsAny(c.SOAPAction, "\"\r\n\x00"):
		add("soap_action", "soap_action must not contain quotes, line breaks or NUL")
	}
	if method == "GET" && c.Format != FormatNameValue && c.Format != "" {
		add("method", "method GET sends only format name-value; format %s needs POST", c.Format)
	}
	if c.Password != "" && c.Username == "" {
		add("password", "password is set but username is empty")
	}
	out = append(out, headerProblems(c.Headers, true)...)
	if s := c.SigningSecret; s != "" && !s.IsEncrypted() {
		if _, err := SigningKey(s.Reveal()); err != nil {
			add("signing_secret", "%v", err)
		}
	}
	if len(c.PayloadFields) > 0 && c.Format != FormatJSON {
		add("payload_fields", "payload_fields are only used with format json")
	}
	out = append(out, limitProblems(c)...)
	return out
}

// headerProblems reports invalid header names and values in name order, and, for
// a callout, the headers it may not set.
func headerProblems(h map[string]string, callout bool) []problem {
	if len(h) == 0 {
		return nil
	}
	var out []problem
	for _, name := range slices.Sorted(maps.Keys(h)) {
		if !validHeaderName(name) {
			out = append(out, problem{"headers." + name + "#key", fmt.Sprintf("invalid header name %q", name)})
		} else if canon := textproto.CanonicalMIMEHeaderKey(name); callout {
			if why, bad := forbiddenHeader(canon); bad {
				out = append(out, problem{"headers." + name + "#key", fmt.Sprintf("header %q may not be set: %s", canon, why)})
			}
		}
		if strings.ContainsAny(h[name], "\r\n\x00") {
			out = append(out, problem{"headers." + name, fmt.Sprintf("header %q: value must not contain line breaks or NUL", name)})
		}
	}
	return out
}

// forbiddenHeader reports whether a header may not be configured as a custom header,
// and why: credentials are never stored with a rendered request, and framing headers
// are the HTTP client's job.
func forbiddenHeader(canon string) (why string, bad bool) {
	switch canon {
	case "Authorization", "Proxy-Authorization":
		return "credentials are never stored with a request; set username and password", true
	case "Content-Length":
		return "it is computed from the body", true
	case "Transfer-Encoding", "Connection":
		return "it is managed by the HTTP client", true
	case "Host":
		return "it is taken from the URL", true
	}
	return "", false
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool { return alnumOr(s, "!#$%&'*+-.^_`|~") }

// alnumOr reports whether s is not empty and holds only ASCII letters, digits and
// bytes of extra.
func alnumOr(s, extra string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte(extra, c) >= 0:
		default:
			return false
		}
	}
	return true
}

// ValidXMLName reports whether s can be the element name of a SOAP method: an XML
// Name without a namespace prefix, not starting with "xml".
func ValidXMLName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= 0xC0 && c != 0xD7 && c != 0xF7 && c <= 0x2FF:
		case i > 0 && (c == '-' || c == '.' || c >= '0' && c <= '9'):
		default:
			return false
		}
	}
	return !strings.HasPrefix(strings.ToLower(s), "xml")
}

// ValidXMLRPCMethod reports whether s is a valid XML-RPC methodName: A-Z a-z 0-9
// and _ . : / (the XML-RPC specification).
func ValidXMLRPCMethod(s string) bool { return alnumOr(s, "_.:/") }

// SigningKey returns the HMAC key of a Standard Webhooks signing secret: a secret
// starting with "whsec_" is base64 (standard alphabet, padding optional) after the
// prefix; any other secret is used as raw bytes. Errors never contain the secret.
func SigningKey(secret string) ([]byte, error) {
	if secret == "" {
		return nil, errors.New("signing secret is empty")
	}
	rest, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return []byte(secret), nil
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(rest)
	}
	if err != nil || len(key) == 0 {
		return nil, errors.New("signing secret: the part after whsec_ is not valid base64")
	}
	return key, nil
}
