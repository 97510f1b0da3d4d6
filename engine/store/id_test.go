package store

import (
	"sort"
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
