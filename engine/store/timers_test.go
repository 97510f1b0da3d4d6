package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestTimersSQLite(t *testing.T)   { testTimers(t, openSQLiteT) }
func TestTimersPostgres(t *testing.T) { testTimers(t, openPostgresT) }

// testTimers checks the timer store: arming keeps a timer armed for the same
// anchor, re-arming resets it, a claimed timer re-armed meanwhile refuses its firing
// (ErrLeaseLost) and enqueues nothing, a firing writes its jobs with it, and
// Forget removes a record's timers and snapshot.
func testTimers(t *testing.T, open func(*testing.T) (*Store, func() *Store)) {
	s, _ := open(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	arm := func(id string, anchor time.Time) *Arming {
		return &Arming{
			Snapshots: []Snapshot{{Form: "Ticket", EntryID: id, Data: []byte(`{"s":["s","` + id + `"]}`)}},
			Arm:       []Timer{{Rule: "R", Form: "Ticket", EntryID: id, Anchor: anchor, Offset: time.Hour, Repetitions: 2, Every: time.Minute, DueAt: anchor.Add(time.Hour), ArmedBy: "create"}},
		}
	}
	if err := s.EnqueueArming(ctx, nil, arm("1", base), base); err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueArming(ctx, []Job{{Kind: KindCallout, MaxAttempts: 1}}, arm("2", base), base); err != nil {
		t.Fatal(err)
	}
	due := base.Add(time.Hour)
	if next, ok, err := s.NextTimerDue(ctx, base); err != nil || !ok || !next.Equal(due) {
		t.Fatalf("NextTimerDue = %v %v %v, want %v", next, ok, err, due)
	}
	if got, err := s.ClaimTimers(ctx, "a", 10, time.Minute, due.Add(-time.Second)); err != nil || len(got) != 0 {
		t.Fatalf("early claim = %v %v", got, err)
	}
	claimed, err := s.ClaimTimers(ctx, "a", 10, time.Minute, due)
	if err != nil || len(claimed) != 2 || string(claimed[0].Snapshot) != `{"s":["s","1"]}` || claimed[0].LeaseOwner != "a" {
		t.Fatalf("claim = %+v %v", claimed, err)
	}
	if again, err := s.ClaimTimers(ctx, "b", 10, time.Minute, due); err != nil || len(again) != 0 {
		t.Fatalf("a leased timer was claimed again: %+v %v", again, err)
	}
	// The same anchor again: nothing changes (the lease holds). A moved one re-arms.
	if err := s.EnqueueArming(ctx, nil, arm("1", base), due); err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueArming(ctx, nil, arm("2", base.Add(time.Hour)), due); err != nil {
		t.Fatal(err)
	}
	res, err := s.FireTimers(ctx, "a", []TimerFiring{
		{Timer: claimed[0].Timer, Fired: true, Next: due.Add(time.Minute), NextRepetition: 1, Jobs: []Job{{Kind: KindCallout, MaxAttempts: 1, EntryID: "1"}}, At: due},
		{Timer: claimed[1].Timer, Fired: true, Jobs: []Job{{Kind: KindCallout, MaxAttempts: 1, EntryID: "2"}}, At: due},
	})
	if err != nil || res[0] != nil || !errors.Is(res[1], ErrLeaseLost) {
		t.Fatalf("FireTimers = %v %v, want nil and ErrLeaseLost", res, err)
	}
	jobs, err := s.List(ctx, Filter{EntryID: "2"})
	if err != nil || len(jobs) != 0 {
		t.Fatalf("the refused firing enqueued %+v (%v)", jobs, err)
	}
	ts, err := s.ListTimers(ctx, TimerFilter{All: true})
	if err != nil || len(ts) != 2 {
		t.Fatalf("ListTimers = %+v %v", ts, err)
	}
	one, two := ts[0], ts[1]
	if one.EntryID != "1" || one.Repetition != 1 || one.Fired != 1 || !one.DueAt.Equal(due.Add(time.Minute)) || one.LeaseOwner != "" || !one.LastFiredAt.Equal(due) {
		t.Errorf("timer 1 = %+v", one)
	}
	if two.EntryID != "2" || two.Repetition != 0 || !two.DueAt.Equal(due.Add(time.Hour)) || two.LeaseOwner != "" || two.State != TimerArmed {
		t.Errorf("timer 2 = %+v", two)
	}
	// Forget drops the record's timers and snapshot; Disarm one rule's timer.
	if err := s.EnqueueArming(ctx, nil, &Arming{Forget: []RecordKey{{"Ticket", "1"}}, Disarm: []TimerKey{{"R", "Ticket", "2"}}}, due); err != nil {
		t.Fatal(err)
	}
	if ts, _ := s.ListTimers(ctx, TimerFilter{All: true}); len(ts) != 0 {
		t.Errorf("timers left: %+v", ts)
	}
	if _, err := s.Snapshot(ctx, "Ticket", "1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("snapshot of a forgotten record: %v", err)
	}
	if n, err := s.CountArmedTimers(ctx); err != nil || n != 0 {
		t.Errorf("CountArmedTimers = %d %v", n, err)
	}
	for _, bad := range []*Arming{
		{Arm: []Timer{{Rule: "R", Form: "Ticket", EntryID: "x", Repetitions: 1}}},
		{Arm: []Timer{{Rule: "R", Form: "Ticket", EntryID: "x", Anchor: base, DueAt: base}}},
	} {
		if err := s.EnqueueArming(ctx, nil, bad, base); err == nil {
			t.Errorf("EnqueueArming(%+v) accepted", bad.Arm[0])
		}
	}
}
