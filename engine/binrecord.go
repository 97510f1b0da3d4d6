package engine

import (
	"encoding/binary"
	"errors"
	"math"
)

// The binary records this package stores — delivery payloads (payload.go) and
// record snapshots (snapshot.go) — share their primitives: uvarint-length-prefixed
// strings and bytes, varints, and counts that a corrupt record cannot inflate.
// The append functions write them, binReader reads them.

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// appendBytes is appendString for bytes, without converting them to a string
// first (a copy for any body longer than a few bytes).
func appendBytes(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

func appendFloat(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

// errTruncated is what a read past the end of a binary record fails with; the
// record's decoder names the record ("delivery payload: truncated").
var errTruncated = errors.New("truncated")

// binReader reads a binary record. The first error sticks (err) and makes every
// later read return zero values, so a decoder reads all its fields and checks err
// once.
type binReader struct {
	b   []byte
	err error
}

func (r *binReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *binReader) byte() byte {
	if len(r.b) == 0 {
		r.fail(errTruncated)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *binReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(errTruncated)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *binReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(errTruncated)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *binReader) float() float64 {
	if len(r.b) < 8 {
		r.fail(errTruncated)
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return f
}

// count reads a count of items each at least min bytes long, refusing one the rest
// of the record cannot hold, so a corrupt count cannot make the reader allocate
// more than the record holds.
func (r *binReader) count(min int) int {
	n := r.uvarint()
	if n > uint64(len(r.b)/min) {
		r.fail(errTruncated)
		return 0
	}
	return int(n)
}

// bytes returns the next length-prefixed bytes as a slice of the record (no copy).
func (r *binReader) bytes() []byte {
	n := r.count(1)
	if r.err != nil {
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *binReader) string() string { return string(r.bytes()) }

func (r *binReader) strings() []string {
	n := r.count(1)
	if n == 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = r.string()
	}
	return ss
}
