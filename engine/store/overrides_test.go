package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func testOverrides(t *testing.T, open opener) {
	s, reopen := open(t)
	ctx := context.Background()
	rev0, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutOverride(ctx, Override{Kind: OverrideCallout, Name: "VSA close alert", Active: false}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutOverride(ctx, Override{Kind: OverrideRule, Name: "Close RMM alert", Active: true}, t0); err != nil {
		t.Fatal(err)
	}
	// Replacing keeps one row and moves the time.
	if _, err := s.PutOverride(ctx, Override{Kind: OverrideCallout, Name: "VSA close alert", Active: true}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if rev, _ := s.Revision(ctx); rev != rev0+3 {
		t.Errorf("revision = %d after 3 writes, want %d (every node must see overrides change)", rev, rev0+3)
	}
	want := []Override{
		{Kind: OverrideCallout, Name: "VSA close alert", Active: true, UpdatedAt: t0.Add(time.Minute)},
		{Kind: OverrideRule, Name: "Close RMM alert", Active: true, UpdatedAt: t0},
	}
	// Overrides survive a restart (another Store on the same database).
	other := reopen()
	for name, st := range map[string]*Store{"same": s, "reopened": other} {
		got, err := st.ListOverrides(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s store: overrides (-want +got):\n%s", name, diff)
		}
	}
	if err := s.DeleteOverride(ctx, OverrideRule, "Close RMM alert"); err != nil {
		t.Fatal(err)
	}
	err = s.DeleteOverride(ctx, OverrideRule, "Close RMM alert")
	if got, want := fmt.Sprint(err), "store: rule override Close RMM alert: not found"; got != want || !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		o    Override
		want string
	}{
		{Override{Kind: "form", Name: "x"}, `store: override: kind "form", want callout or rule`},
		{Override{Kind: OverrideRule}, "store: override: empty name"},
	} {
		if _, err := s.PutOverride(ctx, tc.o, t0); fmt.Sprint(err) != tc.want {
			t.Errorf("PutOverride(%+v) = %v, want %s", tc.o, err, tc.want)
		}
	}
}

func testRuleStats(t *testing.T, open opener) {
	s, reopen := open(t)
	ctx := context.Background()
	if err := s.AddFires(ctx, []RuleFires{{Rule: "a", N: 1, Last: t0}, {Rule: "b", N: 2, Last: t0.Add(time.Second)}}); err != nil {
		t.Fatal(err)
	}
	// Added to, and an older last firing does not move last_fired back.
	if err := s.AddFires(ctx, []RuleFires{{Rule: "a", N: 1, Last: t0.Add(time.Hour)}, {Rule: "b", N: 1, Last: t0.Add(-time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	want := map[string]RuleStat{
		"a": {Rule: "a", FireCount: 2, LastFired: t0.Add(time.Hour)},
		"b": {Rule: "b", FireCount: 3, LastFired: t0.Add(time.Second)},
	}
	got, err := reopen().RuleStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rule stats (-want +got):\n%s", diff)
	}
}

func testCalloutStats(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	var jobs []Job
	for i := range 5 {
		j := callout(fmt.Sprintf("dlv_cs%d", i))
		j.NextAt, j.MaxAttempts = t0, 1
		jobs = append(jobs, j)
	}
	other := callout("dlv_cs_other")
	other.Callout = "Other"
	mail := Job{ID: "eml_cs", Kind: KindEmail, Callout: "VSA close alert", MaxAttempts: 1, Payload: []byte("{}")}
	mustEnqueue(t, s, append(jobs, other, mail)...)
	claimed := mustClaim(t, s, "w", 3, t0)
	if len(claimed) != 3 {
		t.Fatalf("claimed %d", len(claimed))
	}
	if err := s.Complete(ctx, "dlv_cs0", "w", attempt(t0, 200, ""), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Fail(ctx, "dlv_cs1", "w", attempt(t0, 500, "HTTP 500"), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Fail(ctx, "dlv_cs2", "w", attempt(t0, 500, "HTTP 500"), nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.CalloutStats(ctx, []string{"VSA close alert", "Other", "Never"})
	if err != nil {
		t.Fatal(err)
	}
	if st := got["VSA close alert"]; st.Pending != 2 || st.Delivered != 1 || st.Failed != 2 || st.Last.ID != "dlv_cs4" || st.Last.Status != StatusPending {
		t.Errorf("VSA close alert stats = %d/%d/%d last %s %s; want 2 pending, 1 delivered, 2 failed (the e-mail not counted), last dlv_cs4 pending",
			st.Pending, st.Delivered, st.Failed, st.Last.ID, st.Last.Status)
	}
	if st := got["Other"]; st.Pending != 1 || st.Last.ID != "dlv_cs_other" {
		t.Errorf("Other stats = %+v", st)
	}
	if st := got["Never"]; st.Pending+st.Delivered+st.Failed != 0 || st.Last.ID != "" {
		t.Errorf("Never stats = %+v, want zero", st)
	}
}

func testBulkRetry(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	var jobs []Job
	for i := range 6 {
		j := callout(fmt.Sprintf("dlv_br%d", i))
		j.CreatedAt = t0.Add(time.Duration(i) * time.Hour)
		j.NextAt, j.MaxAttempts = j.CreatedAt, 1
		if i == 5 {
			j.Callout = "Other"
		}
		jobs = append(jobs, j)
	}
	mustEnqueue(t, s, jobs...)
	later := t0.Add(24 * time.Hour)
	for _, j := range mustClaim(t, s, "w", 10, later) {
		settle := s.Fail
		if j.ID == "dlv_br0" {
			settle = s.Complete
		}
		if err := settle(ctx, j.ID, "w", attempt(later, 500, "HTTP 500"), nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		f    RetryFilter
		want int64
	}{
		{"all failed", RetryFilter{}, 5},
		{"callout", RetryFilter{Callout: "VSA close alert"}, 4},
		{"since", RetryFilter{Since: t0.Add(3 * time.Hour)}, 3},
		{"window", RetryFilter{Since: t0.Add(time.Hour), Until: t0.Add(3 * time.Hour)}, 2},
		{"kind email", RetryFilter{Kind: KindEmail}, 0},
		{"pending", RetryFilter{Status: StatusPending}, 0},
	} {
		n, err := s.CountMatching(ctx, tc.f)
		if err != nil || n != tc.want {
			t.Errorf("%s: CountMatching = %d, %v; want %d", tc.name, n, err, tc.want)
		}
	}
	n, err := s.RetryMatching(ctx, RetryFilter{Callout: "VSA close alert", Since: t0.Add(2 * time.Hour)}, later)
	if err != nil || n != 3 {
		t.Fatalf("RetryMatching = %d, %v; want 3", n, err)
	}
	// The counts the triggers keep follow the re-drive.
	stats, err := s.CalloutStats(ctx, []string{"VSA close alert"})
	if st := stats["VSA close alert"]; err != nil || st.Pending != 3 || st.Delivered != 1 || st.Failed != 1 {
		t.Errorf("stats after the re-drive = %+v, %v; want 3 pending, 1 delivered, 1 failed", st, err)
	}
	for id, want := range map[string]Status{"dlv_br0": StatusDelivered, "dlv_br1": StatusFailed, "dlv_br2": StatusPending,
		"dlv_br4": StatusPending, "dlv_br5": StatusFailed} {
		j, atts, _ := s.Get(ctx, id)
		if j.Status != want {
			t.Errorf("%s: status %s, want %s", id, j.Status, want)
		}
		if want == StatusPending && (j.MaxAttempts != 2 || len(atts) != 1 || !j.NextAt.Equal(later)) {
			t.Errorf("%s re-driven = %+v; want a fresh budget (max 2), its attempt kept, due now", id, j)
		}
	}
	for _, tc := range []struct {
		f    RetryFilter
		want string
	}{
		{RetryFilter{Status: StatusDelivered}, `store: retry: status "delivered", want failed or pending (a delivered job is never sent again)`},
		{RetryFilter{Kind: "sms"}, `store: retry: kind "sms", want callout, email or note`},
		{RetryFilter{Since: t0, Until: t0}, "store: retry: until 2026-11-22T09:00:00Z is not after since 2026-11-22T09:00:00Z"},
	} {
		if _, err := s.RetryMatching(ctx, tc.f, later); fmt.Sprint(err) != tc.want {
			t.Errorf("RetryMatching(%+v) = %v, want %s", tc.f, err, tc.want)
		}
	}
}

// TestIDFloor: the floor of a time sorts at or before every ID made at or after
// it, and after every ID made a millisecond before.
func TestIDFloor(t *testing.T) {
	at := time.Date(2026, 12, 2, 1, 2, 3, 456789000, time.UTC)
	floor := idFloor(JobIDPrefix, at)
	if got, ok := IDTime(JobIDPrefix, floor); !ok || !got.Equal(at.Truncate(time.Millisecond)) {
		t.Errorf("IDTime(%s) = %v, %v; want %v", floor, got, ok, at.Truncate(time.Millisecond))
	}
	for _, d := range []time.Duration{0, time.Microsecond, time.Millisecond, time.Hour} {
		if id := NewID(JobIDPrefix, at.Add(d)); id < floor {
			t.Errorf("NewID(at+%v) = %s sorts before the floor %s", d, id, floor)
		}
	}
	if id := NewID(JobIDPrefix, at.Add(-time.Millisecond)); id >= floor {
		t.Errorf("NewID(at-1ms) = %s does not sort before the floor %s", id, floor)
	}
}
