package rules

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const testKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

func testKey(t testing.TB) *Key {
	t.Helper()
	k, err := ParseKey(testKeyHex)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestParseKey(t *testing.T) {
	raw, _ := hex.DecodeString(testKeyHex)
	var want Key
	copy(want[:], raw)
	tests := []struct {
		name    string
		input   string
		wantErr string
	}{
		{name: "hex", input: testKeyHex},
		{name: "hex upper with newline", input: strings.ToUpper(testKeyHex) + "\n"},
		{name: "base64 std", input: base64.StdEncoding.EncodeToString(raw)},
		{name: "base64 raw url", input: base64.RawURLEncoding.EncodeToString(raw)},
		{name: "empty", input: "  ", wantErr: "invalid key: empty (want 32 bytes as 64 hex characters or base64)"},
		{name: "short base64", input: base64.StdEncoding.EncodeToString(raw[:16]), wantErr: "invalid key: decodes to 16 bytes, want 32 (64 hex characters or base64)"},
		{name: "64 non-hex chars decode as base64 to 48 bytes", input: strings.Repeat("z", 64), wantErr: "invalid key: decodes to 48 bytes, want 32 (64 hex characters or base64)"},
		{name: "garbage", input: "not a key!", wantErr: "invalid key: neither 64 hex characters nor base64 (10 characters)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKey(tt.input)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseKey error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *k != want {
				t.Fatalf("ParseKey = %x, want %x", k[:], want[:])
			}
		})
	}
}

func TestKeyNeverPrints(t *testing.T) {
	k := testKey(t)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprint(*k), fmt.Sprintf("%v %+v %#v %s %v %#v", k, k, k, k, *k, *k)} {
		if strings.Contains(s, "0001020304") || strings.Contains(s, "[0 1 2") {
			t.Fatalf("key leaked: %s", s)
		}
	}
}

func TestEncryptValueRoundTrip(t *testing.T) {
	k := testKey(t)
	for _, plain := range []string{"", "Demo123", "pässwörd ✓ with spaces & <xml>", strings.Repeat("x", 4096)} {
		enc, err := k.Encrypt(plain)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(enc, "enc:v1:") {
			t.Fatalf("Encrypt = %q, want enc:v1: prefix", enc)
		}
		if plain != "" && strings.Contains(enc, plain) {
			t.Fatalf("ciphertext contains the plain text")
		}
		enc2, _ := k.Encrypt(plain)
		if enc == enc2 {
			t.Fatalf("two encryptions are identical; nonce not random")
		}
		got, err := Secret(enc).Value(k)
		if err != nil {
			t.Fatal(err)
		}
		if got != plain {
			t.Fatalf("Value = %q, want %q", got, plain)
		}
	}
}

func TestSecretValueErrors(t *testing.T) {
	k := testKey(t)
	other, _ := ParseKey(strings.Repeat("ff", 32))
	enc, err := k.Encrypt("hunter2-secret")
	if err != nil {
		t.Fatal(err)
	}
	// Flip one bit of the ciphertext.
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(enc, EncryptedPrefix))
	raw[len(raw)-1] ^= 1
	tampered := EncryptedPrefix + base64.RawURLEncoding.EncodeToString(raw)

	tests := []struct {
		name    string
		secret  Secret
		key     *Key
		want    string
		wantErr string
	}{
		{name: "plain passes through", secret: "Demo123", key: nil, want: "Demo123"},
		{name: "empty", secret: "", key: k, want: ""},
		{name: "no key", secret: Secret(enc), key: nil, wantErr: "encrypted secret but no key (set RULEFLOW_KEY or provide the key file)"},
		{name: "wrong key", secret: Secret(enc), key: other, wantErr: "encrypted secret: cannot decrypt (wrong key or corrupted value)"},
		{name: "tampered", secret: Secret(tampered), key: k, wantErr: "encrypted secret: cannot decrypt (wrong key or corrupted value)"},
		{name: "bad base64", secret: "enc:v1:***", key: k, wantErr: "encrypted secret: malformed base64url text"},
		{name: "too short", secret: "enc:v1:AAAA", key: k, wantErr: "encrypted secret: too short"},
		{name: "unknown version", secret: "enc:v9:AAAA", key: k, wantErr: "encrypted secret: unsupported format (want enc:v1:)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.secret.Value(tt.key)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Value error = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error leaks the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("Value = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadKeyFromEnv(t *testing.T) {
	t.Setenv(KeyEnv, testKeyHex)
	k, err := LoadKey(filepath.Join(t.TempDir(), "unused.key"))
	if err != nil {
		t.Fatal(err)
	}
	if *k != *testKey(t) {
		t.Fatal("LoadKey did not use RULEFLOW_KEY")
	}

	t.Setenv(KeyEnv, "ab!")
	_, err = LoadKey("")
	if want := "RULEFLOW_KEY: invalid key: neither 64 hex characters nor base64 (3 characters)"; err == nil || err.Error() != want {
		t.Fatalf("LoadKey error = %v, want %q", err, want)
	}
}

func TestLoadKeyFile(t *testing.T) {
	t.Setenv(KeyEnv, "")
	dir := t.TempDir()
	name := filepath.Join(dir, "ruleflow.key")

	k1, err := LoadKey(name)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("key file mode = %#o, want 0600", perm)
	}
	k2, err := LoadKey(name)
	if err != nil {
		t.Fatal(err)
	}
	if *k1 != *k2 {
		t.Fatal("second LoadKey returned a different key")
	}
	if *k1 == (Key{}) {
		t.Fatal("generated key is all zeros")
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("dir holds %d entries, want only the key file", len(entries))
	}

	if err := os.Chmod(name, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadKey(name)
	if want := "key file " + name + ": permissions 0644 are too open, want 0600"; err == nil || err.Error() != want {
		t.Fatalf("LoadKey error = %v, want %q", err, want)
	}

	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadKey(bad)
	if want := "key file " + bad + ": invalid key: neither 64 hex characters nor base64 (5 characters)"; err == nil || err.Error() != want {
		t.Fatalf("LoadKey error = %v, want %q", err, want)
	}

	_, err = LoadKey("")
	if want := "no key: set RULEFLOW_KEY or name a key file"; err == nil || err.Error() != want {
		t.Fatalf("LoadKey error = %v, want %q", err, want)
	}
}

func TestLoadKeyConcurrentCreate(t *testing.T) {
	t.Setenv(KeyEnv, "")
	name := filepath.Join(t.TempDir(), "ruleflow.key")
	const n = 8
	keys := make([]*Key, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], errs[i] = LoadKey(name) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !bytes.Equal(keys[i][:], keys[0][:]) {
			t.Fatalf("caller %d got a different key", i)
		}
	}
}

func BenchmarkSecretValue(b *testing.B) {
	k := testKey(b)
	enc, _ := k.Encrypt("Demo123")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Secret(enc).Value(k); err != nil {
			b.Fatal(err)
		}
	}
}
