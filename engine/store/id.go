package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// crockford is the Crockford base-32 alphabet ULIDs use: no I, L, O or U, and its
// order matches ASCII order, so encoded IDs sort like the bits they encode.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// Prefixes of the IDs the store generates.
const (
	JobIDPrefix    = "dlv_"
	TargetIDPrefix = "tgt_"
)

// NewID returns prefix followed by a 26-character ULID: 48 bits of t in Unix
// milliseconds then 80 random bits, in Crockford base 32. IDs with the same prefix
// sort by time (to the millisecond); within one millisecond their order is random.
func NewID(prefix string, t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	binary.BigEndian.PutUint16(b[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(b[2:6], uint32(ms))
	rand.Read(b[6:]) // never fails (crypto/rand panics rather than return an error)

	out := make([]byte, len(prefix)+26)
	copy(out, prefix)
	dst := out[len(prefix):]
	// 128 bits as 26 base-32 digits: the first digit holds the top 3 bits.
	hi := binary.BigEndian.Uint64(b[0:8])
	lo := binary.BigEndian.Uint64(b[8:16])
	for i := 25; i >= 0; i-- {
		dst[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out)
}

// IDTime returns the time encoded in an ID made by NewID with the given prefix, to
// the millisecond, and false if id is not such an ID.
func IDTime(prefix, id string) (time.Time, bool) {
	if len(id) != len(prefix)+26 || id[:len(prefix)] != prefix {
		return time.Time{}, false
	}
	var ms uint64
	for _, c := range []byte(id[len(prefix) : len(prefix)+10]) {
		d := decodeCrockford(c)
		if d < 0 {
			return time.Time{}, false
		}
		ms = ms<<5 | uint64(d)
	}
	if ms >= 1<<48 { // the first digit carries only 3 bits
		return time.Time{}, false
	}
	return time.UnixMilli(int64(ms)).UTC(), true
}

func decodeCrockford(c byte) int {
	for i := 0; i < len(crockford); i++ {
		if crockford[i] == c {
			return i
		}
	}
	return -1
}

// TokenHash is the SHA-256 of a secret token. The store keeps only hashes, never
// tokens.
type TokenHash [sha256.Size]byte

// HashToken returns the SHA-256 of token.
func HashToken(token string) TokenHash { return sha256.Sum256([]byte(token)) }
