package rules

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEgressParsed(t *testing.T) {
	c := mustParse(t, base+"egress: {allow: [127.0.0.0/8, \"::1/128\"], deny: [10.0.0.0/8], strict: true}\n")
	want := &Egress{
		Allow: []string{"127.0.0.0/8", "::1/128"}, Deny: []string{"10.0.0.0/8"}, Strict: true,
		AllowRanges: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		DenyRanges:  []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	}
	if diff := cmp.Diff(want, c.Egress, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("egress (-want +got):\n%s", diff)
	}
	if c := mustParse(t, base); c.Egress != nil {
		t.Errorf("no egress block: Egress = %+v, want nil", c.Egress)
	}
}

func TestEgressErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"not a range", "egress:\n  allow: [localhost]\n", []string{`12:11: egress allow: "localhost" is not a CIDR range (want e.g. 127.0.0.0/8 or fd00::/8)`}},
		{"an address", "egress:\n  deny: [10.1.2.3, \"::1\"]\n", []string{
			`12:10: egress deny: "10.1.2.3" is an address, not a range (want CIDR, e.g. 10.1.2.3/32)`,
			`12:20: egress deny: "::1" is an address, not a range (want CIDR, e.g. ::1/128)`,
		}},
		{"host bits", "egress:\n  allow:\n    - 127.0.0.0/8\n    - 127.0.0.1/8\n", []string{`14:7: egress allow: "127.0.0.1/8" has bits set beyond the prefix length; did you mean 127.0.0.0/8?`}},
		{"allow without loopback", "egress: {allow: [0.0.0.0/0, 10.0.0.0/8, \"::/0\", \"fe80::/10\"]}\n", []string{
			`11:29: egress allow: 10.0.0.0/8 holds no loopback address, and allow only lifts the loopback rule (private ranges are allowed already; link-local, multicast and broadcast never are)`,
			`11:49: egress allow: fe80::/10 holds no loopback address, and allow only lifts the loopback rule (private ranges are allowed already; link-local, multicast and broadcast never are)`,
		}},
		{"zone", "egress: {deny: [\"fe80::1%eth0/64\"]}\n", []string{`11:17: egress deny: "fe80::1%eth0/64" is not a CIDR range (want e.g. 127.0.0.0/8 or fd00::/8)`}},
		{"unknown key", "egress: {alow: [127.0.0.0/8]}\n", []string{`11:10: unknown key "alow" in egress; did you mean "allow"?`}},
		{"strict type", "egress: {strict: maybe}\n", []string{`11:18: expected true or false, got the string "maybe"`}},
		{"allow type", "egress: {allow: 127.0.0.0/8}\n", []string{`11:17: expected a list, got the string "127.0.0.0/8"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseTest(t, base+tc.src)
			if diff := cmp.Diff(tc.want, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
