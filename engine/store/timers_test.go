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
	if err := s.EnqueueArming(ctx, nil, nil, arm("1", base), base); err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueArming(ctx, []Job{{Kind: KindCallout, MaxAttempts: 1}}, nil, arm("2", base), base); err != nil {
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
	if err := s.EnqueueArming(ctx, nil, nil, arm("1", base), due); err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueArming(ctx, nil, nil, arm("2", base.Add(time.Hour)), due); err != nil {
		t.Fatal(err)
	}
	res, err := s.FireTimers(ctx, "a", []TimerFiring{
		{Timer: claimed[0].Timer, Fired: true, Next: due.Add(time.Minute), NextRepetition: 1, Jobs: []Job{{Kind: KindCallout, MaxAttempts: 1, EntryID: "1"}}, At: due,
			History: &HistoryRecord{Form: "Ticket", EntryID: "1", EventKind: "time", Doc: []byte(`{"fired":1}`)}},
		{Timer: claimed[1].Timer, Fired: true, Jobs: []Job{{Kind: KindCallout, MaxAttempts: 1, EntryID: "2"}}, At: due,
			History: &HistoryRecord{Form: "Ticket", EntryID: "2", EventKind: "time", Doc: []byte(`{"fired":2}`)}},
	})
	if err != nil || res[0] != nil || !errors.Is(res[1], ErrLeaseLost) {
		t.Fatalf("FireTimers = %v %v, want nil and ErrLeaseLost", res, err)
	}
	jobs, err := s.List(ctx, Filter{EntryID: "2"})
	if err != nil || len(jobs) != 0 {
		t.Fatalf("the refused firing enqueued %+v (%v)", jobs, err)
	}
	// The recorded firing's history is stored with it (at its time), the refused one's is not.
	if h, err := s.History(ctx, HistoryFilter{Form: "Ticket"}); err != nil || len(h) != 1 || h[0].EntryID != "1" ||
		h[0].EventKind != "time" || string(h[0].Doc) != `{"fired":1}` || !h[0].CreatedAt.Equal(due) {
		t.Fatalf("history = %+v %v, want the firing of 1 alone", h, err)
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
	if err := s.EnqueueArming(ctx, nil, nil, &Arming{Forget: []RecordKey{{"Ticket", "1"}}, Disarm: []TimerKey{{"R", "Ticket", "2"}}}, due); err != nil {
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
		if err := s.EnqueueArming(ctx, nil, nil, bad, base); err == nil {
			t.Errorf("EnqueueArming(%+v) accepted", bad.Arm[0])
		}
	}
}

func TestClaimAndFireTimersSQLite(t *testing.T)   { testClaimAndFire(t, openSQLiteT) }
func TestClaimAndFireTimersPostgres(t *testing.T) { testClaimAndFire(t, openPostgresT) }

// testClaimAndFire: one transaction claims the due timers, hands them to decide
// and records its firings with their jobs; nothing due means decide is not called.
func testClaimAndFire(t *testing.T, open func(*testing.T) (*Store, func() *Store)) {
	s, _ := open(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	a := &Arming{}
	for i, id := range []string{"1", "2", "3"} {
		d := base.Add(time.Duration(i) * time.Minute)
		a.Snapshots = append(a.Snapshots, Snapshot{Form: "Ticket", EntryID: id, Data: []byte(id)})
		a.Arm = append(a.Arm, Timer{Rule: "R", Form: "Ticket", EntryID: id, Anchor: d, Repetitions: 1, DueAt: d})
	}
	if err := s.EnqueueArming(ctx, nil, nil, a, base); err != nil {
		t.Fatal(err)
	}
	calls := 0
	fs, res, err := s.ClaimAndFireTimers(ctx, "n", 10, time.Minute, base.Add(time.Minute), func(due []DueTimer) []TimerFiring {
		calls++
		if len(due) != 2 || due[0].EntryID != "1" || string(due[1].Snapshot) != "2" || due[0].LeaseOwner != "n" {
			t.Errorf("due = %+v", due)
		}
		return []TimerFiring{
			{Timer: due[0].Timer, Fired: true, Jobs: []Job{{Kind: KindCallout, MaxAttempts: 1, EntryID: "1"}}, At: base.Add(time.Minute),
				History: &HistoryRecord{Form: "Ticket", EntryID: "1", EventKind: "time", Doc: []byte(`{}`)}},
			{Timer: due[1].Timer, At: base.Add(time.Minute),
				History: &HistoryRecord{Form: "Ticket", EntryID: "2", EventKind: "time", Doc: []byte(`{}`)}},
		}
	})
	if err != nil || len(fs) != 2 || res[0] != nil || res[1] != nil || calls != 1 {
		t.Fatalf("ClaimAndFireTimers = %v %v %v (calls %d)", fs, res, err, calls)
	}
	// Both decisions (fired and not) are in the history, written in the same transaction.
	if h, err := s.History(ctx, HistoryFilter{}); err != nil || len(h) != 2 || h[0].EventKind != "time" || h[1].EventKind != "time" {
		t.Errorf("history = %+v %v, want both decisions", h, err)
	}
	if jobs, _ := s.List(ctx, Filter{}); len(jobs) != 1 || jobs[0].EntryID != "1" {
		t.Errorf("jobs = %+v", jobs)
	}
	if ts, _ := s.ListTimers(ctx, TimerFilter{}); len(ts) != 1 || ts[0].EntryID != "3" || ts[0].LeaseOwner != "" {
		t.Errorf("armed = %+v", ts)
	}
	fs, _, err = s.ClaimAndFireTimers(ctx, "n", 10, time.Minute, base.Add(time.Minute), func([]DueTimer) []TimerFiring {
		t.Error("decide called with nothing due")
		return nil
	})
	if err != nil || fs != nil {
		t.Errorf("nothing due: %v %v", fs, err)
	}
}
