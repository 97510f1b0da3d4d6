package egress

import (
	"net/netip"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// ParseHost returns the IP address a URL host names literally, in any spelling a
// resolver or browser would accept as an address rather than a name:
//
//   - IPv6, with or without brackets and with or without a zone ("[fe80::1%eth0]"),
//     including dotted forms such as "::ffff:127.0.0.1";
//   - IPv4 in the inet_aton forms: one to four parts separated by dots, each
//     decimal, octal (a leading 0) or hexadecimal (0x), the last part filling the
//     remaining bytes ("127.1", "0177.0.0.1", "0x7f000001", "2130706433");
//   - either with a trailing dot ("127.0.0.1."), and with full-width or other
//     compatibility digits and dots ("１２７.０.０.１"), as IDNA maps them.
//
// ok is false when host is a name (or not a valid literal), which must then be
// resolved. The zone, if any, is kept in the returned address.
func ParseHost(host string) (addr netip.Addr, ok bool) {
	host = normalizeHost(host)
	if h, found := strings.CutPrefix(host, "["); found {
		h, found = strings.CutSuffix(h, "]")
		if !found {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(h)
		return a, err == nil && a.Is6()
	}
	if strings.Contains(host, ":") {
		a, err := netip.ParseAddr(host)
		return a, err == nil && a.Is6()
	}
	return parseIPv4(host)
}

// normalizeHost lower-cases host (but not its zone) and, when it is not plain ASCII, maps it the way
// IDNA's compatibility mapping does for the characters that matter here: NFKC turns
// full-width and other compatibility digits and letters into ASCII, and the
// ideographic and full-width full stops become ".".
func normalizeHost(host string) string {
	ascii := true
	for i := 0; i < len(host); i++ {
		if host[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if !ascii {
		host = norm.NFKC.String(host)
		host = strings.NewReplacer("\u3002", ".", "\uff0e", ".", "\uff61", ".").Replace(host)
	}
	// Zones are interface names, which are case-sensitive.
	if i := strings.IndexByte(host, '%'); i >= 0 {
		return strings.ToLower(host[:i]) + host[i:]
	}
	return strings.ToLower(host)
}

// parseIPv4 parses the inet_aton forms of an IPv4 address (see ParseHost).
func parseIPv4(s string) (netip.Addr, bool) {
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return netip.Addr{}, false
	}
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var vals [4]uint64
	for i, p := range parts {
		v, ok := parseIPv4Part(p)
		if !ok {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	last := len(parts) - 1
	var n uint64
	for i := range last {
		if vals[i] > 0xff {
			return netip.Addr{}, false
		}
		n = n<<8 | vals[i]
	}
	// The last part fills the bytes the others left: 4 - last of them.
	width := uint(8 * (4 - last))
	if vals[last] >= 1<<width {
		return netip.Addr{}, false
	}
	n = n<<width | vals[last]
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

// parseIPv4Part parses one inet_aton part: decimal, octal with a leading 0, or
// hexadecimal after 0x ("0x" alone is 0, as inet_aton reads it). Values beyond 32
// bits are refused, so nothing overflows.
func parseIPv4Part(p string) (uint64, bool) {
	base := uint64(10)
	switch {
	case strings.HasPrefix(p, "0x"):
		base, p = 16, p[2:]
		if p == "" {
			return 0, true
		}
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	case p == "":
		return 0, false
	}
	var v uint64
	for i := 0; i < len(p); i++ {
		d, ok := digitValue(p[i])
		if !ok || d >= base {
			return 0, false
		}
		v = v*base + d
		if v > 0xffffffff {
			return 0, false
		}
	}
	return v, true
}

func digitValue(c byte) (uint64, bool) {
	switch {
	case '0' <= c && c <= '9':
		return uint64(c - '0'), true
	case 'a' <= c && c <= 'f':
		return uint64(c-'a') + 10, true
	}
	return 0, false
}
