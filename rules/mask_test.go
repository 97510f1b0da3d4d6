package rules

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIsSecretParam(t *testing.T) {
	for name, want := range map[string]bool{
		"api_key": true, "X-Signature": true, "accessToken": true, "client_secret": true, "PASSWORD": true,
		"passwd": true, "pwd": true, "sig": true, "auth": true, "session_id": true, "credentials": true,
		"id": false, "page": false, "client": false, "number": false, "status": false,
	} {
		if got := IsSecretParam(name); got != want {
			t.Errorf("IsSecretParam(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestMaskURL(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"https://rmm.example.com/ws?id=1", "https://rmm.example.com/ws?id=1"},
		{"https://h/x?api_key=k3y&page=2&X-Signature=abc&token", "https://h/x?api_key=********&page=2&X-Signature=********&token"},
		{"https://h/x?a=1;Secret=s", "https://h/x?a=1;Secret=********"},
		{"https://h/x?api%5Fkey=k", "https://h/x?api%5Fkey=********"},
		{"https://svc:hunter2@h/x", "https://h/x"},
		{"https://h/x#access_token=abc", "https://h/x"},
		{"http:user:hunter2@host/x", "http:host/x"},
		{"@//user:hunter2@host/x#%", "@//host/x"},
		{"@//@#%", "@//"},
		{"https://u:p%zz@h/p?token=x", "https://h/p"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := MaskURL(tt.in); got != tt.want {
			t.Errorf("MaskURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskURLsIn(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{`Post "https://h/x?token=t1&id=2": EOF`, `Post "https://h/x?token=********&id=2": EOF`},
		{"a http://u:p@h1 and ftp://x@h2/y?key=k", "a http://h1 and ftp://h2/y?key=********"},
		{"no url here", "no url here"},
		{"dangling ://u:p@x", "dangling ://x"},
	}
	for _, tt := range tests {
		if got := MaskURLsIn(tt.in); got != tt.want {
			t.Errorf("MaskURLsIn(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskHeaders(t *testing.T) {
	got := MaskHeaders(map[string]string{"X-Api-Key": "k", "X-Tenant": "acme"}, []string{"x-api-key"})
	want := map[string]string{"X-Api-Key": Masked, "X-Tenant": "acme"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MaskHeaders (-want +got):\n%s", diff)
	}
	if MaskHeaders(nil, []string{"a"}) != nil {
		t.Error("MaskHeaders(nil) != nil")
	}
}
