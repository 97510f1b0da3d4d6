package main

import "testing"

func TestCheckInsecureListen(t *testing.T) {
	for listen, ok := range map[string]bool{
		"localhost:8080": true, "LOCALHOST:1": true, "127.0.0.1:8080": true, "127.1.2.3:80": true, "[::1]:8080": true,
		":8080": false, "0.0.0.0:8080": false, "[::]:8080": false, "192.168.1.5:8080": false, "example.com:80": false,
		"[fe80::1%lo]:80": false, "127.0.0.1": false,
	} {
		if err := checkInsecureListen(listen); (err == nil) != ok {
			t.Errorf("checkInsecureListen(%q) = %v, want ok=%v", listen, err, ok)
		}
	}
}
