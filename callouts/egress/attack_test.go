package egress

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeResolver answers from a map and records every lookup; a name it does not
// know is "no such host". Tests use it so that no lookup reaches the system
// resolver.
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][]string
	lookups []string
}

func (r *fakeResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookups = append(r.lookups, host)
	list, ok := r.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, s := range list {
		out = append(out, netip.MustParseAddr(s))
	}
	return out, nil
}

func (r *fakeResolver) looked() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lookups...)
}

// fakeDNS is the zone every attack test resolves in.
var fakeDNS = map[string][]string{
	"metadata.test":    {"169.254.169.254"},
	"rebind.test":      {"10.0.0.5", "127.0.0.1"},
	"mixed6.test":      {"192.168.1.10", "fe80::1"},
	"mapped.test":      {"::ffff:169.254.169.254"},
	"nat64.test":       {"64:ff9b::a9fe:a9fe"},
	"lo.test":          {"127.0.0.1"},
	"lo6.test":         {"::1"},
	"private.test":     {"10.9.9.9"},
	"lan.test":         {"192.168.7.7", "fd00::7"},
	"multicast.test":   {"239.1.2.3"},
	"zero.test":        {"0.0.0.0"},
	"127.0.0.1.nip.io": {"127.0.0.1"},
}

func prefixes(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range s {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

var (
	allowLo     = Policy{Allow: prefixes("127.0.0.0/8")}
	allowAll    = Policy{Allow: prefixes("0.0.0.0/0", "::/0")}
	deny10      = Policy{Deny: prefixes("10.0.0.0/8")}
	denyAllowLo = Policy{Allow: prefixes("127.0.0.0/8"), Deny: prefixes("127.0.0.0/8")}
	strict      = Policy{Strict: true}
	strictAllow = Policy{Strict: true, Allow: prefixes("127.0.0.0/8")}
)

const (
	loAPI    = "loopback, refused for API-registered webhooks (egress.allow lifts this)"
	loStrict = "loopback, refused by egress.strict (egress.allow lifts this)"
)

// attacks are URLs an attacker (or a careless administrator) might give, with the
// origin and policy they are judged under and the refusal expected ("" = allowed).
// A literal address must be refused at registration (CheckURL) with the same text
// the dialer gives; a name must pass CheckURL and be refused after resolution.
var attacks = []struct {
	url    string
	origin Origin
	policy Policy
	want   string // the full error text, "" when allowed
}{
	// Loopback in every spelling, registered through the API.
	{"http://127.0.0.1/", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI},
	{"http://127.1/", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI},
	{"http://127.0.1/", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI},
	{"http://0x7f000001/", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI},
	{"http://0X7F000001/", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI},
	{"http://2130706433/", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI},
	{"http://017700000001/", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI},
	{"http://0177.0.0.1/", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI},
	{"http://0177.0000.0000.0001/", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI},
	{"http://0x7f.0.0.1/", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI},
	{"http://0x7f.1/", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI},
	{"http://0x7f.0x0.0x0.0x1/", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI},
	{"http://127.0.0.1./", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI},
	{"http://127.255.255.254:8080/", FromAPI, Policy{}, "egress refused: 127.255.255.254 is " + loAPI},
	{"http://%E2%91%A0%E2%91%A1%E2%91%A6.0.0.1/", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI},
	{"http://１２７.０.０.１/", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI},
	{"http://127。0。0。1/", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI},
	{"http://[::1]/", FromAPI, Policy{}, "egress refused: ::1 is " + loAPI},
	{"http://[0:0:0:0:0:0:0:1]/", FromAPI, Policy{}, "egress refused: ::1 is " + loAPI},
	{"http://[::1%25lo]/", FromAPI, Policy{}, "egress refused: ::1%lo is " + loAPI},
	{"http://[::ffff:127.0.0.1]/", FromAPI, Policy{}, "egress refused: ::ffff:127.0.0.1 is IPv4-mapped 127.0.0.1, which is " + loAPI},
	{"http://[::ffff:7f00:1]/", FromAPI, Policy{}, "egress refused: ::ffff:127.0.0.1 is IPv4-mapped 127.0.0.1, which is " + loAPI},
	{"http://[::127.0.0.1]/", FromAPI, Policy{}, "egress refused: ::7f00:1 is IPv4-compatible 127.0.0.1, which is " + loAPI},
	{"http://[64:ff9b::127.0.0.1]/", FromAPI, Policy{}, "egress refused: 64:ff9b::7f00:1 is NAT64 of 127.0.0.1, which is " + loAPI},
	{"http://[2002:7f00:1::]/", FromAPI, Policy{}, "egress refused: 2002:7f00:1:: is 6to4 of 127.0.0.1, which is " + loAPI},
	{"http://localhost/", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI},
	{"http://LOCALHOST./", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI},
	{"http://api.localhost/", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI},

	// Link-local (cloud metadata): refused for everyone.
	{"http://169.254.169.254/latest/meta-data/", FromConfig, Policy{}, "egress refused: 169.254.169.254 is link-local"},
	{"http://0xa9fea9fe/", FromConfig, Policy{}, "egress refused: 169.254.169.254 is link-local"},
	{"http://2852039166/", FromConfig, Policy{}, "egress refused: 169.254.169.254 is link-local"},
	{"http://0251.0376.0251.0376/", FromConfig, Policy{}, "egress refused: 169.254.169.254 is link-local"},
	{"http://169.254.43518/", FromConfig, Policy{}, "egress refused: 169.254.169.254 is link-local"},
	{"http://[::ffff:169.254.169.254]/", FromConfig, Policy{}, "egress refused: ::ffff:169.254.169.254 is IPv4-mapped 169.254.169.254, which is link-local"},
	{"http://[::ffff:a9fe:a9fe]/", FromAPI, Policy{}, "egress refused: ::ffff:169.254.169.254 is IPv4-mapped 169.254.169.254, which is link-local"},
	{"http://[64:ff9b::a9fe:a9fe]/", FromConfig, Policy{}, "egress refused: 64:ff9b::a9fe:a9fe is NAT64 of 169.254.169.254, which is link-local"},
	{"http://[2002:a9fe:a9fe::]/", FromConfig, Policy{}, "egress refused: 2002:a9fe:a9fe:: is 6to4 of 169.254.169.254, which is link-local"},
	{"http://[fe80::1]/", FromConfig, Policy{}, "egress refused: fe80::1 is link-local"},
	{"http://[fe80::1%25eth0]/", FromAPI, Policy{}, "egress refused: fe80::1%eth0 is link-local"},
	{"http://[FE80::A9FE:A9FE%25en0]:8080/", FromConfig, Policy{}, "egress refused: fe80::a9fe:a9fe%en0 is link-local"},
	{"http://[febf:ffff::1]/", FromConfig, Policy{}, "egress refused: febf:ffff::1 is link-local"},
	{"http://169.254.169.254/", FromAPI, allowAll, "egress refused: 169.254.169.254 is link-local"},

	// Unspecified, multicast, broadcast.
	{"http://0.0.0.0/", FromConfig, Policy{}, "egress refused: 0.0.0.0 is unspecified"},
	{"http://0/", FromConfig, Policy{}, "egress refused: 0.0.0.0 is unspecified"},
	{"http://0x0/", FromConfig, Policy{}, "egress refused: 0.0.0.0 is unspecified"},
	{"http://0.1.2.3/", FromConfig, Policy{}, "egress refused: 0.1.2.3 is unspecified"},
	{"http://[::]/", FromConfig, Policy{}, "egress refused: :: is unspecified"},
	{"http://[::ffff:0.0.0.0]/", FromConfig, Policy{}, "egress refused: ::ffff:0.0.0.0 is IPv4-mapped 0.0.0.0, which is unspecified"},
	{"http://224.0.0.1/", FromConfig, Policy{}, "egress refused: 224.0.0.1 is multicast"},
	{"http://239.255.255.250/", FromConfig, Policy{}, "egress refused: 239.255.255.250 is multicast"},
	{"http://[ff02::1]/", FromConfig, Policy{}, "egress refused: ff02::1 is multicast"},
	{"http://[2002:e000:1::]/", FromConfig, Policy{}, "egress refused: 2002:e000:1:: is 6to4 of 224.0.0.1, which is multicast"},
	{"http://255.255.255.255/", FromConfig, Policy{}, "egress refused: 255.255.255.255 is broadcast"},
	{"http://4294967295/", FromConfig, Policy{}, "egress refused: 255.255.255.255 is broadcast"},
	{"http://0xffffffff/", FromConfig, Policy{}, "egress refused: 255.255.255.255 is broadcast"},
	{"http://[::ffff:255.255.255.255]/", FromConfig, Policy{}, "egress refused: ::ffff:255.255.255.255 is IPv4-mapped 255.255.255.255, which is broadcast"},

	// Names: judged after resolution, on every address.
	{"http://metadata.test/", FromConfig, Policy{}, "egress refused: 169.254.169.254 is link-local (metadata.test resolves to it)"},
	{"http://rebind.test/", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI + " (rebind.test resolves to it)"},
	{"http://mixed6.test/", FromConfig, Policy{}, "egress refused: fe80::1 is link-local (mixed6.test resolves to it)"},
	{"http://mapped.test/", FromConfig, Policy{}, "egress refused: ::ffff:169.254.169.254 is IPv4-mapped 169.254.169.254, which is link-local (mapped.test resolves to it)"},
	{"http://nat64.test/", FromConfig, Policy{}, "egress refused: 64:ff9b::a9fe:a9fe is NAT64 of 169.254.169.254, which is link-local (nat64.test resolves to it)"},
	{"http://lo.test/", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI + " (lo.test resolves to it)"},
	{"http://lo6.test/", FromAPI, Policy{}, "egress refused: ::1 is " + loAPI + " (lo6.test resolves to it)"},
	{"http://multicast.test/", FromAPI, Policy{}, "egress refused: 239.1.2.3 is multicast (multicast.test resolves to it)"},
	{"http://zero.test/", FromConfig, Policy{}, "egress refused: 0.0.0.0 is unspecified (zero.test resolves to it)"},
	{"http://127.0.0.1.nip.io/", FromAPI, Policy{}, "egress refused: 127.0.0.1 is " + loAPI + " (127.0.0.1.nip.io resolves to it)"},
	{"http://lo.test/", FromConfig, Policy{}, ""},
	{"http://lan.test/", FromAPI, Policy{}, ""},
	{"http://rebind.test/", FromAPI, allowLo, ""},

	// allow and deny.
	{"http://127.0.0.1/", FromAPI, allowLo, ""},
	{"http://0x7f000001/", FromAPI, allowLo, ""},
	{"http://[::ffff:127.0.0.1]/", FromAPI, allowLo, ""},
	{"http://[::1]/", FromAPI, allowLo, "egress refused: ::1 is " + loAPI},
	{"http://[::1]/", FromAPI, allowAll, ""},
	{"http://127.0.0.1/", FromAPI, denyAllowLo, "egress refused: 127.0.0.1 is in egress.deny 127.0.0.0/8"},
	{"http://10.1.2.3/", FromConfig, deny10, "egress refused: 10.1.2.3 is in egress.deny 10.0.0.0/8"},
	{"http://012.1.2.3/", FromConfig, deny10, "egress refused: 10.1.2.3 is in egress.deny 10.0.0.0/8"},
	{"http://167772161/", FromAPI, deny10, "egress refused: 10.0.0.1 is in egress.deny 10.0.0.0/8"},
	{"http://[::ffff:10.1.2.3]/", FromConfig, deny10, "egress refused: ::ffff:10.1.2.3 is IPv4-mapped 10.1.2.3, which is in egress.deny 10.0.0.0/8"},
	{"http://[2002:a01:203::]/", FromConfig, deny10, "egress refused: 2002:a01:203:: is 6to4 of 10.1.2.3, which is in egress.deny 10.0.0.0/8"},
	{"http://private.test/", FromConfig, deny10, "egress refused: 10.9.9.9 is in egress.deny 10.0.0.0/8 (private.test resolves to it)"},
	{"http://10.1.2.3/", FromAPI, Policy{}, ""},
	{"http://192.168.0.1/", FromAPI, Policy{}, ""},
	{"http://172.16.0.1/", FromAPI, Policy{}, ""},
	{"http://[fd00::1]/", FromAPI, Policy{}, ""},
	{"http://[::ffff:10.1.2.3]/", FromAPI, Policy{}, ""},

	// strict: the file's own targets follow the API rules.
	{"http://127.0.0.1/", FromConfig, strict, "egress refused: 127.0.0.1 is " + loStrict},
	{"http://localhost/", FromConfig, strict, "egress refused: 127.0.0.1 is " + loStrict},
	{"http://[::1]/", FromConfig, strict, "egress refused: ::1 is " + loStrict},
	{"http://lo.test/", FromConfig, strict, "egress refused: 127.0.0.1 is " + loStrict + " (lo.test resolves to it)"},
	{"http://127.0.0.1/", FromConfig, strictAllow, ""},
	{"http://127.0.0.1/", FromAPI, strictAllow, ""},
	{"http://0x7f000001/", FromConfig, Policy{}, ""},
	{"http://127.1/", FromConfig, Policy{}, ""},
	{"http://[::1]/", FromConfig, Policy{}, ""},
	{"http://localhost/", FromConfig, Policy{}, ""},
}

// TestAttackTable judges every attack twice: at registration (CheckURL, no
// resolver) and at dial time (Dialer.Resolve with the fake zone). A literal address
// gets the same verdict both times and is never looked up; a name passes
// registration and gets its verdict after resolution.
func TestAttackTable(t *testing.T) {
	if len(attacks) < 60 {
		t.Fatalf("%d attacks, want at least 60", len(attacks))
	}
	for _, tc := range attacks {
		t.Run(tc.origin.String()+" "+tc.url, func(t *testing.T) {
			u, err := url.Parse(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			res := &fakeResolver{answers: fakeDNS}
			d := &Dialer{Policy: tc.policy, Origin: tc.origin, Resolver: res}
			_, dialErr := d.Resolve(context.Background(), u.Hostname())
			regErr := tc.policy.CheckURL(tc.url, tc.origin)
			name := len(res.looked()) > 0

			if got := errText(dialErr); got != tc.want {
				t.Errorf("dial: got %q\nwant %q", got, tc.want)
			}
			if dialErr != nil && !IsRefused(dialErr) {
				t.Errorf("dial error %v is not a RefusedError", dialErr)
			}
			switch {
			case name && regErr != nil:
				t.Errorf("registration of a name refused: %v (names are judged when dialled)", regErr)
			case !name && errText(regErr) != tc.want:
				t.Errorf("registration: got %q\nwant %q", errText(regErr), tc.want)
			}
			if name {
				if _, known := fakeDNS[u.Hostname()]; !known {
					t.Errorf("%s was looked up: %v", u.Hostname(), res.looked())
				}
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestAttacksThroughHTTP sends every attack through a real http.Client whose
// transport is a Guard: a refused one fails with the refusal and reaches nothing;
// an allowed one whose addresses are all 127.0.0.0/8 reaches the receiver on
// 127.0.0.1 (numeric spellings included, never looked up). Only loopback traffic.
func TestAttacksThroughHTTP(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	var refused, delivered int
	for _, tc := range attacks {
		res := &fakeResolver{answers: fakeDNS}
		d := &Dialer{Policy: tc.policy, Origin: tc.origin, Resolver: res}
		u, _ := url.Parse(tc.url)
		addrs, err := d.Resolve(context.Background(), u.Hostname())
		reachable := err == nil && len(addrs) > 0
		for _, a := range addrs {
			if !a.Unmap().Is4() || !a.Unmap().IsLoopback() {
				reachable = false
			}
		}
		if err == nil && !reachable {
			continue // allowed, but not on loopback: no traffic leaves the machine
		}
		p := tc.policy
		g := NewGuard(nil, res, func() *Policy { return &p })
		client := &http.Client{Transport: g}
		u.Host = net.JoinHostPort(u.Hostname(), port)
		ctx := WithOrigin(context.Background(), tc.origin)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		before := hits.Load()
		resp, err := client.Do(req)
		switch {
		case tc.want != "":
			refused++
			if err == nil {
				resp.Body.Close()
				t.Errorf("%s (%s): delivered, want %q", tc.url, tc.origin, tc.want)
			} else if !strings.Contains(err.Error(), tc.want) || !IsRefused(err) {
				t.Errorf("%s (%s): %v\nwant %q", tc.url, tc.origin, err, tc.want)
			}
			if hits.Load() != before {
				t.Errorf("%s (%s): the receiver was reached", tc.url, tc.origin)
			}
		case err != nil:
			t.Errorf("%s (%s): %v, want delivered", tc.url, tc.origin, err)
		default:
			delivered++
			resp.Body.Close()
			if resp.StatusCode != 200 || hits.Load() != before+1 {
				t.Errorf("%s (%s): status %d, hits %d", tc.url, tc.origin, resp.StatusCode, hits.Load()-before)
			}
		}
		g.CloseIdleConnections()
	}
	if refused < 60 || delivered < 8 {
		t.Errorf("sent %d refused and %d delivered attacks, want at least 60 and 8", refused, delivered)
	}
}

func TestUnknownNameIsNotRefusedButFails(t *testing.T) {
	res := &fakeResolver{answers: fakeDNS}
	d := &Dialer{Resolver: res}
	_, err := d.Resolve(context.Background(), "0x7g000001")
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || IsRefused(err) {
		t.Fatalf("err = %v, want a DNS error", err)
	}
}

// TestProxyEnvironmentIgnored: with HTTP_PROXY pointing at a listener, a request
// still goes straight to its (vetted) target.
func TestProxyEnvironmentIgnored(t *testing.T) {
	var proxied atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { proxied.Add(1) }))
	defer proxy.Close()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "direct") }))
	defer target.Close()
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	tmpl := http.DefaultTransport.(*http.Transport).Clone()
	tmpl.Proxy = http.ProxyFromEnvironment
	g := NewGuard(tmpl, &fakeResolver{}, nil)
	// A non-loopback spelling so that Go's own proxy rules (which skip loopback)
	// would send it to the proxy if the guard kept the proxy.
	resp, err := (&http.Client{Transport: g}).Get(strings.Replace(target.URL, "127.0.0.1", "2130706433", 1))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "direct" || proxied.Load() != 0 {
		t.Fatalf("body %q, proxied %d: the proxy variables were used", body, proxied.Load())
	}
}

// TestPolicyChangeDropsConnections: a connection kept alive under a permissive
// policy is not reused once the policy refuses its address.
func TestPolicyChangeDropsConnections(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	var cur atomic.Pointer[Policy]
	cur.Store(&Policy{})
	g := NewGuard(nil, &fakeResolver{}, cur.Load)
	client := &http.Client{Transport: g}
	get := func() error {
		resp, err := client.Get(srv.URL)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return err
	}
	if err := get(); err != nil {
		t.Fatal(err)
	}
	cur.Store(&Policy{Deny: prefixes("127.0.0.0/8")})
	if err := get(); err == nil || !IsRefused(err) {
		t.Fatalf("after deny: err = %v, want refused (the kept-alive connection was reused)", err)
	}
	cur.Store(&Policy{})
	if err := get(); err != nil {
		t.Fatal(err)
	}
}

// TestOriginsDoNotShareConnections: a connection a file callout opened to loopback
// is not reused by an API webhook to the same address.
func TestOriginsDoNotShareConnections(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	g := NewGuard(nil, &fakeResolver{}, nil)
	client := &http.Client{Transport: g}
	do := func(o Origin) error {
		req, _ := http.NewRequestWithContext(WithOrigin(context.Background(), o), http.MethodGet, srv.URL, nil)
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return err
	}
	if err := do(FromConfig); err != nil {
		t.Fatal(err)
	}
	if err := do(FromAPI); !IsRefused(err) {
		t.Fatalf("API webhook over the file callout's connection: err = %v, want refused", err)
	}
}

// TestDialTriesEveryVettedAddress: when the first address of a name refuses the
// connection, the next vetted one is dialled.
func TestDialTriesEveryVettedAddress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Host) }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	res := &fakeResolver{answers: map[string][]string{"two.test": {"127.0.0.2", "127.0.0.1"}}}
	client := &http.Client{Transport: NewGuard(nil, res, nil)}
	resp, err := client.Get("http://two.test:" + port + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "two.test:"+port {
		t.Errorf("Host %q, want two.test:%s", body, port)
	}
}
