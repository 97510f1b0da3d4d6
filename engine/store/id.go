package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"sync"
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
// sort by time (to the millisecond), and IDs made in the same millisecond sort in
// the order NewID made them (see IDGenerator): Claim relies on that order for jobs
// due at the same time. NewID is safe for concurrent use.
func NewID(prefix string, t time.Time) string { return defaultIDs.New(prefix, t) }

// defaultIDs is the generator of NewID: the one piece of package-level state, a
// mutex-guarded IDGenerator, so IDs made anywhere in the process are monotonic.
var defaultIDs IDGenerator

// IDGenerator makes monotonic ULIDs, like oklog/ulid's monotonic entropy: the
// first ID of a millisecond gets 80 fresh random bits; each later ID of the same
// millisecond adds a random amount between 1 and 2^32 to the previous random part,
// so it sorts after it and is still hard to guess. Should the random part run out
// (a chance of about 2^-48 per millisecond), the ID moves to the next millisecond.
// A clock that steps back starts afresh: IDs sort by their time first. The zero
// value is ready to use; an IDGenerator is safe for concurrent use.
type IDGenerator struct {
	mu     sync.Mutex
	lastMS uint64
	last   [10]byte // the random part of the last ID
	used   bool
}

// New returns prefix followed by a ULID for t that sorts after every ID g made
// before for the same millisecond.
func (g *IDGenerator) New(prefix string, t time.Time) string {
	ms := uint64(t.UnixMilli()) & (1<<48 - 1)
	var b [16]byte
	g.mu.Lock()
	if g.used && ms == g.lastMS {
		var inc [4]byte
		rand.Read(inc[:]) // never fails (crypto/rand panics rather than return an error)
		if !addTo(&g.last, uint64(binary.BigEndian.Uint32(inc[:]))+1) {
			ms++ // the random part overflowed: the next millisecond, fresh bits
			rand.Read(g.last[:])
		}
	} else {
		rand.Read(g.last[:])
	}
	g.lastMS, g.used = ms, true
	copy(b[6:], g.last[:])
	g.mu.Unlock()
	return encodeID(prefix, ms, &b)
}

// idFloor returns the smallest ID with prefix for time t: every ID NewID makes for
// an earlier millisecond sorts before it, every one for t or later does not.
func idFloor(prefix string, t time.Time) string {
	var b [16]byte
	return encodeID(prefix, uint64(t.UnixMilli())&(1<<48-1), &b)
}

// encodeID writes prefix and b, whose first 6 bytes are set to ms, as a ULID.
func encodeID(prefix string, ms uint64, b *[16]byte) string {
	binary.BigEndian.PutUint16(b[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(b[2:6], uint32(ms))

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

// addTo adds n to the 80-bit big-endian number r, reporting false (and leaving r
// wrapped) when the sum does not fit.
func addTo(r *[10]byte, n uint64) bool {
	lo := binary.BigEndian.Uint64(r[2:10])
	hi := binary.BigEndian.Uint16(r[0:2])
	sum := lo + n
	if sum < lo {
		hi++
		if hi == 0 {
			binary.BigEndian.PutUint64(r[2:10], sum)
			binary.BigEndian.PutUint16(r[0:2], hi)
			return false
		}
	}
	binary.BigEndian.PutUint64(r[2:10], sum)
	binary.BigEndian.PutUint16(r[0:2], hi)
	return true
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
