package egress

import (
	"net/netip"
	"testing"
)

func TestParseHost(t *testing.T) {
	tests := []struct {
		host string
		want string // "" means not a literal address
	}{
		{"127.0.0.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"127.258", "127.0.1.2"},
		{"0x7f000001", "127.0.0.1"},
		{"0X7F000001", "127.0.0.1"},
		{"0x00007f000001", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"017700000001", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"0177.0000.0000.0001", "127.0.0.1"},
		{"0x7f.0.0.1", "127.0.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"0x7f.0x0.0x0.0x1", "127.0.0.1"},
		{"127.0.0.1.", "127.0.0.1"},
		{"0", "0.0.0.0"},
		{"0x", "0.0.0.0"},
		{"00", "0.0.0.0"},
		{"4294967295", "255.255.255.255"},
		{"169.254.43518", "169.254.169.254"},
		{"0251.0376.0251.0376", "169.254.169.254"},
		{"１２７.０.０.１", "127.0.0.1"},
		{"127。0。0。1", "127.0.0.1"},
		{"127．0．0．1", "127.0.0.1"},
		{"[::1]", "::1"},
		{"::1", "::1"},
		{"[::ffff:127.0.0.1]", "::ffff:127.0.0.1"},
		{"[::FFFF:7F00:1]", "::ffff:127.0.0.1"},
		{"[fe80::1%eth0]", "fe80::1%eth0"},
		{"fe80::1%eth0", "fe80::1%eth0"},
		{"[64:ff9b::a9fe:a9fe]", "64:ff9b::a9fe:a9fe"},

		// Names, and numbers that are not valid inet_aton spellings: resolved.
		{"example.com", ""},
		{"localhost", ""},
		{"4294967296", ""},
		{"256.0.0.1", ""},
		{"1.2.3.4.5", ""},
		{"1..2", ""},
		{".1", ""},
		{"", ""},
		{".", ""},
		{"08.0.0.1", ""},
		{"0x7g.0.0.1", ""},
		{"1.2.65536", ""},
		{"1.16777216", ""},
		{"0x100000000", ""},
		{"99999999999999999999", ""},
		{"[127.0.0.1]", ""},
		{"[::1", ""},
		{"-1", ""},
		{"+1", ""},
		{"1e3", ""},
		{"127.0.0.1.nip.io", ""},
	}
	for _, tc := range tests {
		got, ok := ParseHost(tc.host)
		switch {
		case tc.want == "" && ok:
			t.Errorf("ParseHost(%q) = %v, want a name", tc.host, got)
		case tc.want != "" && !ok:
			t.Errorf("ParseHost(%q) is a name, want %s", tc.host, tc.want)
		case tc.want != "" && got != netip.MustParseAddr(tc.want):
			t.Errorf("ParseHost(%q) = %v, want %s", tc.host, got, tc.want)
		}
	}
}

// TestParseHostAgreesWithNetip checks that every address netip can parse is read
// the same way.
func TestParseHostAgreesWithNetip(t *testing.T) {
	for _, s := range []string{"1.2.3.4", "0.0.0.0", "255.255.255.255", "10.0.0.1", "::", "::1", "2001:db8::1", "::ffff:1.2.3.4", "fe80::1%en0"} {
		want := netip.MustParseAddr(s)
		if got, ok := ParseHost(s); !ok || got != want {
			t.Errorf("ParseHost(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
}
