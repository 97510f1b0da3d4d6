package egress

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
)

// Origin says who chose an outbound request's target, and so which rules apply.
type Origin int

const (
	// FromConfig is a target written in the configuration file (a callout, a webhook
	// of the file, the notes endpoint): only the always-refused ranges and
	// Policy.Deny apply, unless Policy.Strict.
	FromConfig Origin = iota
	// FromAPI is a target registered through the HTTP API (an AR webhook): loopback
	// is refused too, unless Policy.Allow holds the address.
	FromAPI
)

// String names the origin for messages.
func (o Origin) String() string {
	if o == FromAPI {
		return "API-registered webhook"
	}
	return "configuration file"
}

type originKey struct{}

// WithOrigin returns a context whose requests the Guard judges as coming from o.
// A request without one is FromConfig.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginOf returns the origin WithOrigin stored in ctx, or FromConfig.
func OriginOf(ctx context.Context) Origin {
	o, _ := ctx.Value(originKey{}).(Origin)
	return o
}

// Policy is the administrator's egress configuration (the `egress:` block). The
// zero value refuses only the always-refused ranges, plus loopback for FromAPI.
type Policy struct {
	// Allow are ranges that untrusted targets may reach despite the loopback rule.
	// They never lift the always-refused ranges or Deny.
	Allow []netip.Prefix
	// Deny are extra ranges refused for every outbound request.
	Deny []netip.Prefix
	// Strict makes the configuration file's own targets follow the FromAPI rules.
	Strict bool
}

// untrusted reports whether requests of origin o get the loopback rule.
func (p *Policy) untrusted(o Origin) bool { return o == FromAPI || p.Strict }

// equal reports whether p and q decide every address alike.
func (p *Policy) equal(q *Policy) bool {
	return p.Strict == q.Strict && slices.Equal(p.Allow, q.Allow) && slices.Equal(p.Deny, q.Deny)
}

// RefusedError is an address the guard will not dial. Its message names the address
// and the rule that refuses it, e.g. "egress refused: 169.254.169.254 is
// link-local".
type RefusedError struct {
	// Host is the name that resolved to Addr; empty for a literal address.
	Host string
	// Addr is the refused address.
	Addr netip.Addr
	// Reason is the rule, such as "link-local" or "in egress.deny 10.0.0.0/8".
	Reason string
}

// Error returns "egress refused: ADDR is REASON", naming the host for a name.
func (e *RefusedError) Error() string {
	msg := "egress refused: " + e.Addr.String() + " is " + e.Reason
	if e.Host != "" {
		msg += " (" + e.Host + " resolves to it)"
	}
	return msg
}

// Well-known ranges.
var (
	thisNetwork4  = netip.MustParsePrefix("0.0.0.0/8")
	loopback4     = netip.MustParsePrefix("127.0.0.0/8")
	linkLocal4    = netip.MustParsePrefix("169.254.0.0/16")
	multicast4    = netip.MustParsePrefix("224.0.0.0/4")
	broadcast4    = netip.MustParseAddr("255.255.255.255")
	mapped6       = netip.MustParsePrefix("::ffff:0:0/96")
	compatible6   = netip.MustParsePrefix("::/96")
	nat64         = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour     = netip.MustParsePrefix("2002::/16")
	linkLocal6    = netip.MustParsePrefix("fe80::/10")
	multicast6    = netip.MustParsePrefix("ff00::/8")
	loopback6     = netip.IPv6Loopback()
	unspecified6  = netip.IPv6Unspecified()
	alwaysRefused = []struct {
		p      netip.Prefix
		reason string
	}{
		{thisNetwork4, "unspecified"},
		{linkLocal4, "link-local"},
		{multicast4, "multicast"},
		{netip.PrefixFrom(broadcast4, 32), "broadcast"},
		{netip.PrefixFrom(unspecified6, 128), "unspecified"},
		{linkLocal6, "link-local"},
		{multicast6, "multicast"},
	}
)

// Check returns nil when a request of origin o may dial a, or a *RefusedError
// naming the rule that refuses it. An IPv6 address that embeds an IPv4 address
// (IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96, NAT64 64:ff9b::/96, 6to4
// 2002::/16) is refused when the embedded address is.
func (p *Policy) Check(a netip.Addr, o Origin) error {
	if reason := p.reason(a, o); reason != "" {
		return &RefusedError{Addr: a, Reason: reason}
	}
	return nil
}

// reason is the rule that refuses a for origin o, or "".
func (p *Policy) reason(a netip.Addr, o Origin) string {
	a = a.WithZone("")
	for _, d := range p.Deny {
		if d.Contains(a) {
			return "in egress.deny " + d.String()
		}
	}
	if v4, form, ok := embeddedIPv4(a); ok {
		if r := p.reason(v4, o); r != "" {
			return fmt.Sprintf("%s %s, which is %s", form, v4, r)
		}
		return ""
	}
	for _, r := range alwaysRefused {
		if r.p.Contains(a) {
			return r.reason
		}
	}
	if (loopback4.Contains(a) || a == loopback6) && p.untrusted(o) {
		for _, al := range p.Allow {
			if al.Contains(a) {
				return ""
			}
		}
		if o == FromAPI {
			return "loopback, refused for API-registered webhooks (egress.allow lifts this)"
		}
		return "loopback, refused by egress.strict (egress.allow lifts this)"
	}
	return ""
}

// embeddedIPv4 returns the IPv4 address an IPv6 transition form carries, and the
// form's name. :: and ::1 are themselves, not IPv4-compatible forms.
func embeddedIPv4(a netip.Addr) (netip.Addr, string, bool) {
	if !a.Is6() {
		return netip.Addr{}, "", false
	}
	b := a.As16()
	last4 := func() netip.Addr { return netip.AddrFrom4([4]byte(b[12:16])) }
	switch {
	case mapped6.Contains(a):
		return last4(), "IPv4-mapped", true
	case compatible6.Contains(a) && a != unspecified6 && a != loopback6:
		return last4(), "IPv4-compatible", true
	case nat64.Contains(a):
		return last4(), "NAT64 of", true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6])), "6to4 of", true
	}
	return netip.Addr{}, "", false
}

// CheckURL judges the host of a target URL without resolving anything: when the
// host is a literal address in any spelling (see ParseHost) that origin o may not
// reach, it returns the *RefusedError; a name, or an address that is allowed,
// returns nil (names are judged when they are dialled). An unparsable URL returns
// nil too: validating URLs is the configuration's job.
func (p *Policy) CheckURL(raw string, o Origin) error {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	host := u.Hostname()
	a, ok := ParseHost(host)
	if !ok {
		if isLocalhost(host) {
			a = netip.MustParseAddr("127.0.0.1")
		} else {
			return nil
		}
	}
	return p.Check(a, o)
}

// isLocalhost reports whether name is "localhost" or a name under it, which
// RFC 6761 reserves for loopback: the guard answers it without a resolver.
func isLocalhost(name string) bool {
	name = strings.TrimSuffix(normalizeHost(name), ".")
	return name == "localhost" || strings.HasSuffix(name, ".localhost")
}
