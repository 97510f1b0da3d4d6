package rules

import (
	"net/netip"
	"strconv"
	"strings"
)

// Egress is the outbound guard's configuration (the top-level `egress:` block).
// Every outbound request (callouts, webhook callbacks, notes) is checked on the IP
// address actually dialled; see package callouts/egress for the rules.
type Egress struct {
	// Allow are CIDR ranges that webhooks registered through the API (and, with
	// Strict, the file's own callouts) may reach despite the loopback rule.
	Allow []string `yaml:"allow,omitempty" json:"allow,omitempty"`
	// Deny are CIDR ranges refused for every outbound request.
	Deny []string `yaml:"deny,omitempty" json:"deny,omitempty"`
	// Strict makes the file's own callouts and notes follow the API rules too.
	Strict bool `yaml:"strict,omitempty" json:"strict,omitempty"`

	// AllowRanges and DenyRanges are Allow and Deny parsed, in the same order.
	AllowRanges []netip.Prefix `yaml:"-" json:"-"`
	DenyRanges  []netip.Prefix `yaml:"-" json:"-"`
}

// checkEgress parses the CIDR ranges of e (nil: no egress block), reporting a
// range that is not in CIDR form at its list entry.
func (d *decoder) checkEgress(e *Egress) {
	if e == nil {
		return
	}
	e.AllowRanges = d.egressRanges(e, "allow", e.Allow)
	e.DenyRanges = d.egressRanges(e, "deny", e.Deny)
}

func (d *decoder) egressRanges(e *Egress, key string, list []string) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(list))
	for i, s := range list {
		p, msg := parseCIDR(s)
		if msg == "" && key == "allow" && !holdsLoopback(p) {
			msg = p.String() + " holds no loopback address, and allow only lifts the loopback rule (private ranges are allowed already; link-local, multicast and broadcast never are)"
		}
		if msg != "" {
			d.errAt(e, key+"["+strconv.Itoa(i)+"]", "egress %s: %s", key, msg)
			continue
		}
		out = append(out, p)
	}
	return out
}

// holdsLoopback reports whether p holds a loopback address (127.0.0.0/8 or ::1),
// the only ones an allow range can make reachable.
func holdsLoopback(p netip.Prefix) bool {
	return p.Overlaps(netip.MustParsePrefix("127.0.0.0/8")) || p.Contains(netip.IPv6Loopback())
}

// parseCIDR parses one range of an egress list, or says what is wrong with it.
func parseCIDR(s string) (netip.Prefix, string) {
	s = strings.TrimSpace(s)
	p, err := netip.ParsePrefix(s)
	if err != nil {
		if a, aerr := netip.ParseAddr(s); aerr == nil && a.Zone() == "" {
			return netip.Prefix{}, strconv.Quote(s) + " is an address, not a range (want CIDR, e.g. " + netip.PrefixFrom(a, a.BitLen()).String() + ")"
		}
		return netip.Prefix{}, strconv.Quote(s) + " is not a CIDR range (want e.g. 127.0.0.0/8 or fd00::/8)"
	}
	if p != p.Masked() {
		return netip.Prefix{}, strconv.Quote(s) + " has bits set beyond the prefix length; did you mean " + p.Masked().String() + "?"
	}
	return p, ""
}
