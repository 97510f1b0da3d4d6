package store

import (
	"sort"
	"sync"
	"testing"
	"time"
)

func TestNewIDSortsByTime(t *testing.T) {
	base := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 100 {
		ids = append(ids, NewID(JobIDPrefix, base.Add(time.Duration(i)*time.Millisecond)))
	}
	if !sort.StringsAreSorted(ids) {
		t.Errorf("IDs of increasing times do not sort: %v", ids[:3])
	}
	seen := map[string]bool{}
	for range 1000 {
		id := NewID(JobIDPrefix, base)
		if seen[id] {
			t.Fatalf("duplicate ID %s", id)
		}
		seen[id] = true
	}
}

// TestNewIDMonotonic: IDs made in the same millisecond sort in the order they were
// made (Claim orders jobs due at the same time by ID), also when made from several
// goroutines, and keep their time.
func TestNewIDMonotonic(t *testing.T) {
	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	var g IDGenerator
	prev := g.New(JobIDPrefix, at)
	for i := range 10000 {
		id := g.New(JobIDPrefix, at)
		if id <= prev {
			t.Fatalf("ID %d %s does not sort after %s", i, id, prev)
		}
		if got, ok := IDTime(JobIDPrefix, id); !ok || !got.Equal(at) {
			t.Fatalf("IDTime(%s) = %v, %v; want %v", id, got, ok, at)
		}
		prev = id
	}

	// Concurrent callers: all IDs distinct, each goroutine's in increasing order.
	const workers, each = 8, 500
	var wg sync.WaitGroup
	out := make([][]string, workers)
	for w := range workers {
		wg.Go(func() {
			for range each {
				out[w] = append(out[w], NewID(JobIDPrefix, at))
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for w, ids := range out {
		if !sort.StringsAreSorted(ids) {
			t.Errorf("goroutine %d's IDs are not in order", w)
		}
		for _, id := range ids {
			if seen[id] {
				t.Fatalf("duplicate ID %s", id)
			}
			seen[id] = true
		}
	}
}

// TestNewIDOverflowAndClockStep: a random part that runs out moves the ID to the
// next millisecond (still sorting after); a clock that steps back starts afresh
// with the earlier time.
func TestNewIDOverflowAndClockStep(t *testing.T) {
	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	var g IDGenerator
	first := g.New(JobIDPrefix, at)
	for i := range g.last {
		g.last[i] = 0xff
	}
	next := g.New(JobIDPrefix, at)
	if next <= first {
		t.Errorf("after overflow %s does not sort after %s", next, first)
	}
	if got, _ := IDTime(JobIDPrefix, next); !got.Equal(at.Add(time.Millisecond)) {
		t.Errorf("after overflow the ID's time is %v, want %v", got, at.Add(time.Millisecond))
	}
	back := g.New(JobIDPrefix, at.Add(-time.Second))
	if got, _ := IDTime(JobIDPrefix, back); !got.Equal(at.Add(-time.Second)) || back >= first {
		t.Errorf("clock step back: %s at %v", back, got)
	}
	var r [10]byte
	r[9] = 0xfe
	if !addTo(&r, 1) || r[9] != 0xff || addTo(&[10]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 1) {
		t.Errorf("addTo: %x", r)
	}
	r = [10]byte{0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	if !addTo(&r, 1) || r != [10]byte{0, 1} {
		t.Errorf("addTo carry: %x", r)
	}
}

func TestIDTime(t *testing.T) {
	at := time.Date(2026, 11, 22, 9, 30, 15, 123_000_000, time.UTC)
	id := NewID(TargetIDPrefix, at)
	tests := []struct {
		prefix, id string
		want       time.Time
		wantOK     bool
	}{
		{TargetIDPrefix, id, at, true},
		{JobIDPrefix, id, time.Time{}, false},                                              // wrong prefix
		{TargetIDPrefix, id[:len(id)-1], time.Time{}, false},                               // short
		{TargetIDPrefix, "tgt_000000001Z0000000000000000", time.UnixMilli(63).UTC(), true}, // 1*32 + 31 ms
		{TargetIDPrefix, "tgt_81ARZ3NDEKTSV4RRFFQ69G5FAV", time.Time{}, false},             // time overflows 48 bits
		{TargetIDPrefix, "tgt_01ARZ3NDEKTSV4RRFFQ69G5FAU", time.Time{}, true},              // U is not Crockford, but only the time is decoded
		{TargetIDPrefix, "tgt_0IARZ3NDEKTSV4RRFFQ69G5FAV", time.Time{}, false},             // I is not Crockford
	}
	for _, tc := range tests {
		got, ok := IDTime(tc.prefix, tc.id)
		if ok != tc.wantOK || (ok && !tc.want.IsZero() && !got.Equal(tc.want)) {
			t.Errorf("IDTime(%q, %q) = %v, %v; want %v, %v", tc.prefix, tc.id, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestWebhookIDAndEvents(t *testing.T) {
	if got := WebhookID(101); got != "WBH000000000101" {
		t.Errorf("WebhookID(101) = %q", got)
	}
	tests := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"update"}, "update"},
		{[]string{"Update", "create", "update", " DELETE "}, "create,delete,update"},
		{[]string{"", " "}, ""},
	}
	for _, tc := range tests {
		if got := NormalizeEvents(tc.in); got != tc.want {
			t.Errorf("NormalizeEvents(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func BenchmarkNewID(b *testing.B) {
	b.ReportAllocs()
	now := time.Now()
	for b.Loop() {
		NewID(JobIDPrefix, now)
	}
}

// FuzzIDTime: decoding never panics, and a decoded time encodes back to the same
// time digits.
func FuzzIDTime(f *testing.F) {
	f.Add("dlv_01JD5Q3W2M8V7K6T5R4P3N2M1Z")
	f.Add("dlv_7ZZZZZZZZZZZZZZZZZZZZZZZZZ")
	f.Add("dlv_")
	f.Fuzz(func(t *testing.T, id string) {
		at, ok := IDTime(JobIDPrefix, id)
		if !ok {
			return
		}
		again := NewID(JobIDPrefix, at)
		if again[:len(JobIDPrefix)+10] != id[:len(JobIDPrefix)+10] {
			t.Fatalf("IDTime(%q) = %v, which encodes as %q", id, at, again)
		}
	})
}
