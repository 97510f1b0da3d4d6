package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ruleflow/ruleflow/rules"
)

const secretTestKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// runSecret executes `ruleflow secret <args>` with stdin and returns stdout,
// stderr and the error.
func runSecret(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	cmd := newSecretCommand()
	var out, errOut bytes.Buffer
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestSecretEncryptWithEnvKey(t *testing.T) {
	t.Setenv(rules.KeyEnv, secretTestKey)
	key, err := rules.ParseKey(secretTestKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ stdin, want string }{
		{"Demo123\n", "Demo123"},
		{"Demo123\r\n", "Demo123"},
		{"no newline", "no newline"},
		{"first line\nsecond line\n", "first line"},
		{"  spaces kept  \n", "  spaces kept  "},
		{"pässwörd ✓\n", "pässwörd ✓"},
	}
	for _, tt := range tests {
		out, stderr, err := runSecret(t, tt.stdin, "encrypt")
		if err != nil {
			t.Fatalf("stdin %q: %v", tt.stdin, err)
		}
		enc := strings.TrimSuffix(out, "\n")
		if !strings.HasPrefix(enc, "enc:v1:") || strings.Contains(enc, "\n") {
			t.Fatalf("output %q, want one enc:v1: line", out)
		}
		got, err := rules.Secret(enc).Value(key)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("stdin %q decrypts to %q, want %q", tt.stdin, got, tt.want)
		}
		if strings.Contains(out+stderr, tt.want) {
			t.Errorf("the password appears in the output")
		}
	}
}

func TestSecretEncryptWithKeyFile(t *testing.T) {
	t.Setenv(rules.KeyEnv, "")
	keyFile := filepath.Join(t.TempDir(), "ruleflow.key")
	out, _, err := runSecret(t, "Demo123\n", "encrypt", "--key-file", keyFile)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatalf("key file not created: %v", err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %#o, want 0600", perm)
	}
	key, err := rules.LoadKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rules.Secret(strings.TrimSpace(out)).Value(key)
	if err != nil || got != "Demo123" {
		t.Fatalf("Value = %q, %v", got, err)
	}
	// A second run reuses the key file.
	out2, _, err := runSecret(t, "other\n", "encrypt", "--key-file", keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rules.Secret(strings.TrimSpace(out2)).Value(key); err != nil || got != "other" {
		t.Fatalf("second run: Value = %q, %v", got, err)
	}
}

func TestSecretEncryptErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     string
		stdin   string
		args    []string
		wantErr string
	}{
		{"empty stdin", secretTestKey, "", []string{"encrypt"}, "no password on stdin"},
		{"empty line", secretTestKey, "\n", []string{"encrypt"}, "empty password"},
		{"empty CRLF line", secretTestKey, "\r\n", []string{"encrypt"}, "empty password"},
		{"too long", secretTestKey, strings.Repeat("x", 70000) + "\n", []string{"encrypt"}, "password longer than 65536 bytes"},
		{"bad key", "not-a-key!", "Demo123\n", []string{"encrypt"}, "RULEFLOW_KEY: invalid key: neither 64 hex characters nor base64 (10 characters)"},
		{"extra argument", secretTestKey, "Demo123\n", []string{"encrypt", "Demo123"}, `unknown command "Demo123" for "secret encrypt"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(rules.KeyEnv, tt.env)
			out, _, err := runSecret(t, tt.stdin, tt.args...)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			if out != "" {
				t.Fatalf("stdout = %q, want nothing", out)
			}
		})
	}
}

// TestSecretRegistered runs `ruleflow secret encrypt` through the root command.
func TestSecretRegistered(t *testing.T) {
	t.Setenv(rules.KeyEnv, secretTestKey)
	var out, errOut bytes.Buffer
	root := newRootCommand(&out, &errOut)
	root.SetIn(strings.NewReader("Demo123\n"))
	root.SetArgs([]string{"secret", "encrypt"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "enc:v1:") {
		t.Fatalf("stdout = %q", out.String())
	}
}
