// Package egress is the guard on every outbound HTTP connection ruleflow makes
// (callouts, AR webhook callbacks, forwarded notes): it decides, after DNS
// resolution, which IP addresses may be dialled, and dials only the addresses it
// vetted, so a name cannot resolve to one address when checked and another when
// used (DNS rebinding).
//
// Always refused: unspecified (0.0.0.0/8, ::), link-local (169.254.0.0/16,
// fe80::/10, where cloud metadata services live), multicast, the broadcast address
// 255.255.255.255, and the IPv4-mapped, IPv4-compatible, NAT64 and 6to4 IPv6 forms of
// a refused IPv4 address. Refused for untrusted origins (webhooks registered through
// the HTTP API; the configuration file's own callouts too under Policy.Strict):
// loopback (127.0.0.0/8, ::1) unless Policy.Allow holds it. Policy.Deny adds ranges
// refused for every request. Private ranges are allowed.
//
// Lifecycle: NewGuard builds a Guard (an http.RoundTripper) from a transport
// template and a Resolver; a request's origin travels in its context (WithOrigin);
// the policy in force is read on every request from the Guard's policy function, and
// connections dialled under one policy are never reused under another.
//
// ParseHost reads every spelling of a literal address a URL host can hold (the
// inet_aton forms 0x7f000001, 2130706433, 127.1, 0177.0.0.1; bracketed IPv6 with or
// without a zone; full-width digits), so that such a host is judged as the address
// it is and never sent to a resolver.
package egress
