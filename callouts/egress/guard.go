package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Resolver looks up the addresses of a host name. *net.Resolver implements it;
// tests inject a fake so that no lookup leaves the process.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Guard is an http.RoundTripper that sends each request through a transport whose
// dialer lets only vetted addresses through: the host is resolved (unless it is a
// literal address in any spelling), every address is checked against the policy in
// force for the request's origin, and one of exactly those addresses is dialled.
// One refused address refuses the whole request, so a name cannot smuggle a
// refused address in among allowed ones.
//
// The Guard keeps one transport per origin and builds new ones when the policy
// changes, so a connection dialled under one rule set is never reused under
// another. It is safe for concurrent use.
type Guard struct {
	resolver Resolver
	template *http.Transport
	policy   func() *Policy

	mu    sync.Mutex // serialises replacing state
	state atomic.Pointer[guardState]
}

// guardState is the policy the transports were built for, and the transports by
// Origin.
type guardState struct {
	policy    *Policy
	transport [2]*http.Transport
}

// NewGuard returns a Guard. template is cloned for every transport the Guard builds
// (its Proxy and dial functions are replaced: proxies from the environment are
// never used, and every dial goes through the guard); nil means
// http.DefaultTransport's settings. r nil means net.DefaultResolver. policy returns
// the policy in force and is called on every request (it should return the same
// pointer while the policy does not change); nil means the zero Policy.
func NewGuard(template *http.Transport, r Resolver, policy func() *Policy) *Guard {
	if template == nil {
		template = http.DefaultTransport.(*http.Transport)
	}
	if r == nil {
		r = net.DefaultResolver
	}
	if policy == nil {
		zero := &Policy{}
		policy = func() *Policy { return zero }
	}
	return &Guard{resolver: r, template: template.Clone(), policy: policy}
}

// RoundTrip sends req through the transport of its origin.
func (g *Guard) RoundTrip(req *http.Request) (*http.Response, error) {
	return g.transportFor(OriginOf(req.Context())).RoundTrip(req)
}

// CloseIdleConnections closes the idle connections of the current transports.
func (g *Guard) CloseIdleConnections() {
	if s := g.state.Load(); s != nil {
		for _, t := range s.transport {
			t.CloseIdleConnections()
		}
	}
}

// transportFor returns the transport for origin o under the policy in force,
// building new transports when the policy changed.
func (g *Guard) transportFor(o Origin) *http.Transport {
	if o != FromAPI {
		o = FromConfig
	}
	p := g.policy()
	if p == nil {
		p = &Policy{}
	}
	if s := g.state.Load(); s != nil && s.policy == p {
		return s.transport[o]
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	old := g.state.Load()
	switch {
	case old != nil && old.policy == p:
		return old.transport[o]
	case old != nil && old.policy.equal(p):
		// Same rules under a new pointer (a reload that kept them): keep the
		// connections.
		g.state.Store(&guardState{policy: p, transport: old.transport})
		return old.transport[o]
	}
	s := &guardState{policy: p}
	for i := range s.transport {
		t := g.template.Clone()
		t.Proxy = nil // proxy variables from the environment would bypass the guard
		t.DialContext = (&Dialer{Policy: *p, Origin: Origin(i), Resolver: g.resolver}).DialContext
		//lint:ignore SA1019 clearing the deprecated dial hooks too, so none bypasses the guard
		t.DialTLSContext, t.DialTLS, t.Dial = nil, nil, nil // every dial goes through the guard
		s.transport[i] = t
	}
	g.state.Store(s)
	if old != nil {
		// Connections in use finish on the old transports, which are then unused.
		for _, t := range old.transport {
			t.CloseIdleConnections()
		}
	}
	return s.transport[o]
}

// Dialer dials TCP connections to vetted addresses only. Its zero value uses the
// zero Policy for FromConfig and net.DefaultResolver.
type Dialer struct {
	// Policy and Origin decide which addresses may be dialled.
	Policy Policy
	Origin Origin
	// Resolver looks up host names; nil means net.DefaultResolver.
	Resolver Resolver
	// Timeout bounds one connection attempt; 0 means 30 s.
	Timeout time.Duration
}

// DialContext resolves addr's host (a literal address in any spelling is taken as
// it is, "localhost" as 127.0.0.1 and ::1), checks every address, and dials the
// vetted addresses in turn until one connects. A refused address is a
// *RefusedError; the socket is checked once more just before connect.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	addrs, err := d.Resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	var firstErr error
	for i, a := range addrs {
		if (network == "tcp4" && !a.Unmap().Is4()) || (network == "tcp6" && !a.Is6()) {
			continue
		}
		nd := &net.Dialer{Timeout: shareOf(ctx, timeout, len(addrs)-i), KeepAlive: 30 * time.Second, Control: d.control}
		c, err := nd.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("dial %s: no %s address for %s", network, network, host)
	}
	return nil, firstErr
}

// shareOf is how long one of the remaining n connection attempts may take: an
// equal share of the time ctx has left (at least 2 s, as net.Dialer gives), so an
// unreachable first address does not use up the whole attempt.
func shareOf(ctx context.Context, timeout time.Duration, n int) time.Duration {
	deadline, ok := ctx.Deadline()
	if !ok || n <= 1 {
		return timeout
	}
	share := time.Until(deadline) / time.Duration(n)
	return min(timeout, max(share, 2*time.Second))
}

// Resolve returns the addresses host stands for, every one of them allowed, or the
// *RefusedError of the first that is not.
func (d *Dialer) Resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	var addrs []netip.Addr
	name := ""
	switch a, ok := ParseHost(host); {
	case ok:
		addrs = []netip.Addr{a}
	case isLocalhost(host):
		addrs = []netip.Addr{netip.MustParseAddr("127.0.0.1"), loopback6}
	default:
		r := d.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		var err error
		addrs, err = r.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, err
		}
		if len(addrs) == 0 {
			return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
		name = host
	}
	for _, a := range addrs {
		if err := d.Policy.Check(a, d.Origin); err != nil {
			err.(*RefusedError).Host = name
			return nil, err
		}
	}
	return addrs, nil
}

// control re-checks the address a socket is about to connect to: the last line of
// defence should anything but DialContext's own vetted list reach the dialer.
func (d *Dialer) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("egress refused: unreadable address %q", address)
	}
	return d.Policy.Check(ap.Addr(), d.Origin)
}

// IsRefused reports whether err is, or wraps, a *RefusedError.
func IsRefused(err error) bool {
	var re *RefusedError
	return errors.As(err, &re)
}
