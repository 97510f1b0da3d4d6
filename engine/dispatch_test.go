package engine

import (
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
)

// A job that waited in the queue for more than half its lease is given back
// unsent, so that its attempt cannot outlive the lease and overlap with another
// node that claims it after expiry.
func TestSendableInLease(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	e := &Engine{now: func() time.Time { return now }}
	d := &dispatcher{e: e, lease: 50 * time.Second}
	tests := []struct {
		left time.Duration
		want bool
	}{
		{50 * time.Second, true},  // just claimed
		{25 * time.Second, true},  // exactly half left
		{24 * time.Second, false}, // waited too long
		{0, false},                // expired
		{-time.Second, false},
	}
	for _, tt := range tests {
		job := store.Job{LeaseUntil: now.Add(tt.left)}
		if got := d.sendableInLease(job); got != tt.want {
			t.Errorf("lease with %v left: sendable = %v, want %v", tt.left, got, tt.want)
		}
	}
}
