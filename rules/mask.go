package rules

import (
	"net/url"
	"strings"
)

// secretParamWords are the substrings that mark a query parameter as a credential.
var secretParamWords = [...]string{"key", "token", "secret", "pass", "pwd", "sig", "auth", "credential", "session"}

// IsSecretParam reports whether a query parameter named name carries a credential:
// its lower-cased name contains key, token, secret, pass (password, passwd), pwd,
// sig (sig, signature), auth, credential or session. The match is by substring on
// purpose, so api_key, X-Signature, accessToken and client_secret are all caught; a
// harmless name such as "assignee" or "monkey" is masked too, which hides a value
// from a display but never leaks one.
func IsSecretParam(name string) bool {
	lower := strings.ToLower(name)
	for _, w := range secretParamWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// MaskQuery returns the raw query with the value of every parameter named as a
// credential (IsSecretParam, on the decoded name) replaced by Masked; the other
// parameters keep their order and encoding. Both & and ; separate parameters.
func MaskQuery(raw string) string {
	var b strings.Builder
	for raw != "" {
		part := raw
		sep := ""
		if i := strings.IndexAny(raw, "&;"); i >= 0 {
			part, sep, raw = raw[:i], raw[i:i+1], raw[i+1:]
		} else {
			raw = ""
		}
		if name, _, hasValue := strings.Cut(part, "="); hasValue {
			decoded, err := url.QueryUnescape(name)
			if err != nil {
				decoded = name
			}
			if IsSecretParam(decoded) {
				part = name + "=" + Masked
			}
		}
		b.WriteString(part)
		b.WriteString(sep)
	}
	return b.String()
}

// MaskURL returns raw fit to show in the API, the CLI, replay output, an e-mail or a
// ticket note: without any userinfo ("user:password@", in any position where a
// parser could take it for one), with the value of every credential-like query
// parameter (IsSecretParam) replaced by Masked, and without its fragment (never sent
// to the server; OAuth implicit flows put tokens there). A URL that does not parse
// also loses its query, which cannot be masked reliably, and everything before the
// last "@" of the rest. MaskURL is the one function every surface uses to show a URL.
func MaskURL(raw string) string {
	s, _, _ := strings.Cut(raw, "#")
	u, err := url.Parse(s)
	if err != nil {
		return stripAuthorities(stripUnparsed(s))
	}
	u.User = nil
	if u.Opaque != "" && (strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https")) {
		// "http:user:pw@host" parses as an opaque URL; a browser still sees userinfo.
		u.Opaque = stripUserinfoPrefix(u.Opaque)
	}
	if u.RawQuery != "" {
		u.RawQuery = MaskQuery(u.RawQuery)
	}
	u.Fragment, u.RawFragment = "", ""
	return stripAuthorities(u.String())
}

// MaskURLsIn applies MaskURL to every URL ("scheme://…" up to a space or quote) in
// free text such as an error message: `Post "https://u:p@h/x?token=t": EOF`.
func MaskURLsIn(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		start := i
		for start > 0 && isSchemeByte(s[start-1]) {
			start--
		}
		end := i + 3 + strings.IndexAny(s[i+3:], "\"' \t\r\n<>")
		if end < i+3 {
			end = len(s)
		}
		b.WriteString(s[:start])
		if start == i { // "://" without a scheme: not a URL, but strip any userinfo
			b.WriteString(stripAuthorities(s[i:end]))
		} else {
			b.WriteString(MaskURL(s[start:end]))
		}
		s = s[end:]
	}
}

// MaskHeaders returns a copy of h with the values of the headers named in secret
// (compared case-insensitively) replaced by Masked.
func MaskHeaders(h map[string]string, secret []string) map[string]string {
	if h == nil {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		for _, s := range secret {
			if strings.EqualFold(k, s) {
				v = Masked
				break
			}
		}
		out[k] = v
	}
	return out
}

func isSchemeByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'
}

// stripUnparsed drops the query of a URL that url.Parse rejected, and everything
// between its scheme and the last "@".
func stripUnparsed(s string) string {
	s, _, _ = strings.Cut(s, "?")
	at := strings.LastIndex(s, "@")
	if at < 0 {
		return s
	}
	prefix := ""
	if i := strings.Index(s, "://"); i >= 0 && i < at {
		prefix = s[:i+3]
	}
	return prefix + s[at+1:]
}

// stripAuthorities removes "userinfo@" from every authority ("//" up to the next
// "/", "?" or "#") in s, so that no parser can find userinfo in the result.
func stripAuthorities(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "//")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+2])
		s = s[i+2:]
		end := strings.IndexAny(s, "/?#")
		if end < 0 {
			end = len(s)
		}
		if at := strings.LastIndex(s[:end], "@"); at >= 0 {
			s = s[at+1:]
		}
	}
}

// stripUserinfoPrefix removes "userinfo@" from the start of an opaque URL part.
func stripUserinfoPrefix(s string) string {
	end := strings.IndexAny(s, "/?#")
	if end < 0 {
		end = len(s)
	}
	if at := strings.LastIndex(s[:end], "@"); at >= 0 {
		return s[at+1:]
	}
	return s
}
