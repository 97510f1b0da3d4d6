package callouts

import (
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		input string
		want  time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"120", 120 * time.Second},
		{" 7 ", 7 * time.Second},
		{"86400", time.Hour},
		{"99999999999999999999", 0},
		{now.Add(30 * time.Second).Format(http1123), 30 * time.Second},
		{now.Add(-30 * time.Second).Format(http1123), 0},
		{"Wed, 21 Oct 2015 07:28:00 GMT", 0},
		{"tomorrow", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.input, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.input, got, tt.want)
		}
	}
}

const http1123 = "Mon, 02 Jan 2006 15:04:05 GMT"

func TestExcerpt(t *testing.T) {
	tests := []struct{ input, want string }{
		{"", ""},
		{"  plain  ", "plain"},
		{"a\r\nb\tc\x00d", "a b c d"},
		{"bad \xff utf8", "bad \ufffd utf8"},
		{string(make([]byte, 10)), ""},
		{"é" + strings.Repeat("x", 198) + "é", "é" + strings.Repeat("x", 198)},
	}
	for _, tt := range tests {
		if got := excerpt([]byte(tt.input)); got != tt.want {
			t.Errorf("excerpt(%q) = %q, want %q", tt.input, got, tt.want)
		}
	}
}

func FuzzFindFault(f *testing.F) {
	for _, s := range []string{soap11Fault, soap12Fault, soapHeaderFault, soapOK, xmlrpcFaultBody, xmlrpcOK, "<a><b><c><Fault/></c></b></a>", "", "<"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		reason, ok := findFault(body)
		if ok && reason == "" {
			t.Fatal("fault without a reason")
		}
		if !ok && reason != "" {
			t.Fatalf("reason %q without a fault", reason)
		}
	})
}
