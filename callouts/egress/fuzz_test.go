package egress

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzParseHost checks the literal-address parser and the classifier on arbitrary
// hosts: no panic; an address netip reads is read the same; an IPv4 result is
// canonical (its dotted form parses back to it); whatever the file's callouts may
// not reach, API-registered webhooks may not reach either; and CheckURL agrees with
// Check on literals.
func FuzzParseHost(f *testing.F) {
	for _, s := range []string{
		"127.0.0.1", "127.1", "0x7f000001", "2130706433", "0177.0.0.1", "017700000001",
		"[::ffff:127.0.0.1]", "[::ffff:a9fe:a9fe]", "[fe80::1%eth0]", "64:ff9b::a9fe:a9fe",
		"2002:a9fe:a9fe::", "１２７.０.０.１", "127。0。0。1", "0x", "4294967296", "1.2.3.4.5",
		"localhost", "example.com", "[::1", "0xffffffff",
	} {
		f.Add(s)
	}
	pol := Policy{Deny: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	f.Fuzz(func(t *testing.T, host string) {
		a, ok := ParseHost(host)
		if want, err := netip.ParseAddr(host); err == nil && (!ok || a != want) {
			t.Fatalf("ParseHost(%q) = %v, %v; netip reads %v", host, a, ok, want)
		}
		if !ok {
			return
		}
		if a.Is4() {
			if back, ok2 := ParseHost(a.String()); !ok2 || back != a {
				t.Fatalf("ParseHost(%q) = %v, which reads back as %v, %v", host, a, back, ok2)
			}
		}
		cfgErr, apiErr := pol.Check(a, FromConfig), pol.Check(a, FromAPI)
		if cfgErr != nil && apiErr == nil {
			t.Fatalf("%v: refused for the file (%v) but allowed for the API", a, cfgErr)
		}
		if !strings.ContainsAny(host, "/?#@[]") && !strings.Contains(host, ":") {
			if got := pol.CheckURL("http://"+host+"/", FromAPI); errText(got) != errText(apiErr) && got != nil {
				t.Fatalf("CheckURL(%q) = %v, Check = %v", host, got, apiErr)
			}
		}
	})
}
