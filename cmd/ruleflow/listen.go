package main

import (
	"fmt"
	"net"
	"strings"
)

// checkInsecureListen refuses --insecure-no-auth on an address other hosts can
// reach: the admin API without a token is for a loopback development server only.
// Loopback means "localhost", an IPv4 address in 127.0.0.0/8 or [::1]; an empty host
// (":8080") listens on every interface and is not loopback.
func checkInsecureListen(listen string) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %v", listen, err)
	}
	if !isLoopbackHost(host) {
		shown := host
		if shown == "" {
			shown = "every interface"
		}
		return fmt.Errorf("--insecure-no-auth needs a loopback --listen address (localhost, 127.0.0.1 or [::1]), not %q (%s): to serve other hosts, set RULEFLOW_ADMIN_TOKEN and drop --insecure-no-auth", listen, shown)
	}
	return nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
