package rules

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyEnv is the environment variable that holds the secret-encryption key: 32 bytes
// written as 64 hexadecimal characters or in base64.
const KeyEnv = "RULEFLOW_KEY"

// EncryptedPrefix starts every encrypted secret (design §6): "enc:v1:" followed by
// the unpadded base64url encoding of the 12-byte GCM nonce and the ciphertext.
const EncryptedPrefix = "enc:v1:"

// secretAAD binds every ciphertext to the format version, so a value cannot be
// replayed under a future format.
const secretAAD = "ruleflow " + EncryptedPrefix

// Key is an AES-256 key used to encrypt the passwords of a configuration at rest.
// Its String method never reveals the key.
type Key [32]byte

// String returns a mask, so a Key never leaks through fmt or logs.
func (k Key) String() string { return Masked }

// GoString returns a mask, so %#v does not leak the key either.
func (k Key) GoString() string { return "rules.Key(" + Masked + ")" }

// ParseKey parses a key written as 64 hexadecimal characters or as base64 (standard
// or URL alphabet, padded or not) that decodes to exactly 32 bytes. Surrounding
// white space is ignored. The error never contains the key text.
func ParseKey(s string) (*Key, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("invalid key: empty (want 32 bytes as 64 hex characters or base64)")
	}
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			var k Key
			copy(k[:], b)
			return &k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != len(Key{}) {
			return nil, fmt.Errorf("invalid key: decodes to %d bytes, want 32 (64 hex characters or base64)", len(b))
		}
		var k Key
		copy(k[:], b)
		return &k, nil
	}
	return nil, fmt.Errorf("invalid key: neither 64 hex characters nor base64 (%d characters)", len(s))
}

// LoadKey returns the secret-encryption key. When RULEFLOW_KEY is set it is parsed;
// otherwise the key is read from keyFile, which is created with a fresh random key
// and mode 0600 when it does not exist. A key file readable by group or others is
// refused. Creation is atomic: concurrent callers all end up with the same key.
func LoadKey(keyFile string) (*Key, error) {
	if env, ok := os.LookupEnv(KeyEnv); ok && strings.TrimSpace(env) != "" {
		k, err := ParseKey(env)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", KeyEnv, err)
		}
		return k, nil
	}
	if keyFile == "" {
		return nil, fmt.Errorf("no key: set %s or name a key file", KeyEnv)
	}
	k, err := readKeyFile(keyFile)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	return createKeyFile(keyFile)
}

func readKeyFile(name string) (*Key, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("key file %s: not a regular file", name)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("key file %s: permissions %#o are too open, want 0600", name, perm)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", name, err)
	}
	return k, nil
}

// createKeyFile writes a random key to a temporary file beside name and links it into
// place, so a reader never sees a half-written key and a concurrent creator's key wins.
func createKeyFile(name string) (*Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return nil, fmt.Errorf("key file %s: %w", name, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".ruleflow-key-*")
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("key file %s: %w", name, err)
	}
	if _, err := tmp.WriteString(hex.EncodeToString(k[:]) + "\n"); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("key file %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("key file %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("key file %s: %w", name, err)
	}
	if err := os.Link(tmp.Name(), name); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKeyFile(name)
		}
		return nil, fmt.Errorf("key file %s: %w", name, err)
	}
	return &k, nil
}

func (k *Key) aead() (cipher.AEAD, error) {
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Encrypt seals plain with AES-256-GCM under a random nonce and returns
// "enc:v1:<base64url(nonce||ciphertext)>". Each call gives a different text.
func (k *Key) Encrypt(plain string) (string, error) {
	if k == nil {
		return "", errors.New("encrypt secret: no key")
	}
	g, err := k.aead()
	if err != nil {
		return "", fmt.Errorf("encrypt secret: %w", err)
	}
	buf := make([]byte, g.NonceSize(), g.NonceSize()+len(plain)+g.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("encrypt secret: %w", err)
	}
	buf = g.Seal(buf, buf[:g.NonceSize()], []byte(plain), []byte(secretAAD))
	return EncryptedPrefix + base64.RawURLEncoding.EncodeToString(buf), nil
}

// IsEncrypted reports whether s is stored in encrypted form ("enc:" prefix).
func (s Secret) IsEncrypted() bool { return strings.HasPrefix(string(s), "enc:") }

// Value returns the usable secret: a plain secret is returned as it is, an
// "enc:v1:" secret is decrypted with k. Errors never contain the secret.
func (s Secret) Value(k *Key) (string, error) {
	v := string(s)
	if !strings.HasPrefix(v, "enc:") {
		return v, nil
	}
	if !strings.HasPrefix(v, EncryptedPrefix) {
		return "", errors.New("encrypted secret: unsupported format (want enc:v1:)")
	}
	if k == nil {
		return "", fmt.Errorf("encrypted secret but no key (set %s or provide the key file)", KeyEnv)
	}
	raw, err := base64.RawURLEncoding.DecodeString(v[len(EncryptedPrefix):])
	if err != nil {
		return "", errors.New("encrypted secret: malformed base64url text")
	}
	g, err := k.aead()
	if err != nil {
		return "", fmt.Errorf("encrypted secret: %w", err)
	}
	if len(raw) < g.NonceSize()+g.Overhead() {
		return "", errors.New("encrypted secret: too short")
	}
	plain, err := g.Open(nil, raw[:g.NonceSize()], raw[g.NonceSize():], []byte(secretAAD))
	if err != nil {
		return "", errors.New("encrypted secret: cannot decrypt (wrong key or corrupted value)")
	}
	return string(plain), nil
}
