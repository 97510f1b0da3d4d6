package egress

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// BenchmarkResolve is the guard's work per new connection: parse the host (or
// resolve it with the fake resolver) and check every address.
func BenchmarkResolve(b *testing.B) {
	d := &Dialer{Policy: Policy{Allow: prefixes("127.0.0.0/8"), Deny: prefixes("10.0.0.0/8")}, Origin: FromAPI, Resolver: &fakeResolver{answers: fakeDNS}}
	for _, host := range []string{"127.0.0.1", "0x7f000001", "::ffff:127.0.0.1", "lan.test"} {
		b.Run(host, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Resolve(context.Background(), host); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCheck is one address check.
func BenchmarkCheck(b *testing.B) {
	p := Policy{Deny: prefixes("10.0.0.0/8", "192.168.0.0/16")}
	a := netip.MustParseAddr("::ffff:172.16.0.1")
	b.ReportAllocs()
	for b.Loop() {
		if p.Check(a, FromAPI) != nil {
			b.Fatal("refused")
		}
	}
}

// BenchmarkRoundTrip compares a kept-alive request to a loopback receiver through
// the Guard with the same request through a plain transport.
func BenchmarkRoundTrip(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	for name, rt := range map[string]http.RoundTripper{
		"guard": NewGuard(nil, &fakeResolver{}, nil),
		"plain": http.DefaultTransport.(*http.Transport).Clone(),
	} {
		b.Run(name, func(b *testing.B) {
			client := &http.Client{Transport: rt}
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Get(srv.URL)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
