package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func historyRec(form, entry string, at time.Time, doc string) HistoryRecord {
	return HistoryRecord{ID: NewID(HistoryIDPrefix, at), CreatedAt: at, Form: form, EntryID: entry, EventKind: "update", Doc: []byte(doc)}
}

// testHistory: records come back newest first, filtered by form and entry, paged
// by the before cursor, with every field as written.
func testHistory(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	var want []HistoryRecord
	for i := range 5 {
		entry := "1"
		if i%2 == 1 {
			entry = "2"
		}
		r := historyRec("Ticket", entry, t0.Add(time.Duration(i)*time.Second), fmt.Sprintf(`{"n":%d}`, i))
		if err := s.EnqueueHistory(ctx, nil, []HistoryRecord{r}); err != nil {
			t.Fatal(err)
		}
		want = append(want, r)
	}
	other := historyRec("Change", "1", t0.Add(10*time.Second), `{}`)
	if err := s.EnqueueHistory(ctx, nil, []HistoryRecord{other}); err != nil {
		t.Fatal(err)
	}
	got, err := s.History(ctx, HistoryFilter{Form: "Ticket", EntryID: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]HistoryRecord{want[4], want[2], want[0]}, got); diff != "" {
		t.Errorf("Ticket 1 (-want +got):\n%s", diff)
	}
	page1, err := s.History(ctx, HistoryFilter{Form: "Ticket", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	page2, err := s.History(ctx, HistoryFilter{Form: "Ticket", Limit: 2, Before: page1[1].ID})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range append(page1, page2...) {
		ids = append(ids, r.ID)
	}
	if diff := cmp.Diff([]string{want[4].ID, want[3].ID, want[2].ID, want[1].ID}, ids); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	all, err := s.History(ctx, HistoryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 6 || all[0].ID != other.ID {
		t.Errorf("unfiltered: %d records, first %s; want 6, first %s", len(all), all[0].ID, other.ID)
	}
}

// testHistoryAtomic: the history of an Enqueue that fails is not stored, and that
// of one that succeeds is stored with its jobs.
func testHistoryAtomic(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	mustEnqueue(t, s, callout("dlv_taken"))
	bad := historyRec("Ticket", "8176", t0, `{"bad":true}`)
	err := s.EnqueueHistory(ctx, []Job{callout("dlv_new"), callout("dlv_taken")}, []HistoryRecord{bad})
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("EnqueueHistory with a taken job ID: %v, want ErrDuplicate", err)
	}
	if got, _ := s.History(ctx, HistoryFilter{}); len(got) != 0 {
		t.Errorf("history of a failed enqueue stored: %+v", got)
	}
	good := historyRec("Ticket", "8176", t0, `{"good":true}`)
	if err := s.EnqueueHistory(ctx, []Job{callout("dlv_ok")}, []HistoryRecord{good}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(ctx, "dlv_ok"); err != nil {
		t.Errorf("job: %v", err)
	}
	got, err := s.History(ctx, HistoryFilter{})
	if err != nil || len(got) != 1 || string(got[0].Doc) != `{"good":true}` {
		t.Errorf("history = %+v, %v; want the good record", got, err)
	}
}

// testHistoryAppend: AppendHistory returns before the commit; the record is
// there once the committer has run, and Close commits what is still queued.
func testHistoryAppend(t *testing.T, open opener) {
	s, reopen := open(t)
	ctx := context.Background()
	for i := range 50 {
		if err := s.AppendHistory(ctx, []HistoryRecord{historyRec("Ticket", "1", t0.Add(time.Duration(i)*time.Millisecond), `{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if err := s.AppendHistory(ctx, []HistoryRecord{historyRec("Ticket", "1", t0, `{}`)}); !errors.Is(err, ErrClosed) {
		t.Errorf("AppendHistory after Close: %v, want ErrClosed", err)
	}
	s2 := reopen()
	got, err := s2.History(ctx, HistoryFilter{Limit: 1000})
	if err != nil || len(got) != 50 {
		t.Fatalf("after Close: %d records, %v; want 50", len(got), err)
	}
}

// testHistoryPurge deletes the records older than the cut-off in bounded batches,
// oldest first, and nothing newer.
func testHistoryPurge(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	var recs []HistoryRecord
	for i := range 25 {
		recs = append(recs, historyRec("Ticket", "1", t0.Add(time.Duration(i)*time.Hour), `{}`))
	}
	if err := s.EnqueueHistory(ctx, nil, recs); err != nil {
		t.Fatal(err)
	}
	cut := t0.Add(20 * time.Hour) // records 0..19 are older
	var counts []int64
	for {
		n, err := s.PurgeHistory(ctx, cut, 8)
		if err != nil {
			t.Fatal(err)
		}
		counts = append(counts, n)
		if n < 8 {
			break
		}
	}
	if diff := cmp.Diff([]int64{8, 8, 4}, counts); diff != "" {
		t.Errorf("batches (-want +got):\n%s", diff)
	}
	left, err := s.History(ctx, HistoryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 5 || left[len(left)-1].ID != recs[20].ID {
		t.Errorf("left %d records, oldest %s; want 5, oldest %s", len(left), left[len(left)-1].ID, recs[20].ID)
	}
	if _, err := s.PurgeHistory(ctx, cut, 0); err == nil {
		t.Error("PurgeHistory with limit 0: no error")
	}
}

// testHistoryRules: a record's rule list comes back with it; storing a list twice
// is a no-op; a record whose list is absent comes back without one.
func testHistoryRules(t *testing.T, open opener) {
	s, _ := open(t)
	ctx := context.Background()
	for range 2 {
		if err := s.PutHistoryRules(ctx, "rl_1", []byte(`{"r":[]}`), t0); err != nil {
			t.Fatal(err)
		}
	}
	a := historyRec("Ticket", "1", t0, `{"d":true}`)
	a.RulesID = "rl_1"
	b := historyRec("Ticket", "1", t0.Add(time.Second), `{"d":true}`)
	b.RulesID = "rl_gone"
	if err := s.EnqueueHistory(ctx, nil, []HistoryRecord{a, b}); err != nil {
		t.Fatal(err)
	}
	got, err := s.History(ctx, HistoryFilter{})
	if err != nil || len(got) != 2 {
		t.Fatalf("History = %+v, %v", got, err)
	}
	if got[1].RulesID != "rl_1" || string(got[1].Rules) != `{"r":[]}` || got[0].RulesID != "rl_gone" || got[0].Rules != nil {
		t.Errorf("rule lists: %q %q, %q %q", got[1].RulesID, got[1].Rules, got[0].RulesID, got[0].Rules)
	}
	if err := s.PutHistoryRules(ctx, "", nil, t0); err == nil {
		t.Error("empty ID accepted")
	}
}

// BenchmarkEnqueueHistory: five jobs per call, as one fired event stores them,
// alone and with the event's history record (345 bytes, the engine's record of the
// bench event), alternated in one loop so both see the same disk.
func BenchmarkEnqueueHistory(b *testing.B) {
	s, err := Open(context.Background(), "sqlite:"+b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	doc := []byte(`{"d":true,"k":[],"r":[[40,"t"],[41,"t"],[42,"t"],[43,"t"],[44,"t"]],"c":[["nv","F0-R40","dlv_01M8T4WYGB7TRRGSZ2WZK8GD9K",""],["nvget","F0-R41","dlv_01M8T4WYGB7TRRGSZ2X02PZ381",""],["soap","F0-R42","dlv_01M8T4WYGB7TRRGSZ2X2RTPV4Q",""],["xmlrpc","F0-R43","dlv_01M8T4WYGB7TRRGSZ2X4EHZF04",""],["json","F0-R44","dlv_01M8T4WYGB7TRRGSZ2X6Q5C8H1",""]]}`)
	var off, on time.Duration
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		jobs := []Job{benchJob(), benchJob(), benchJob(), benchJob(), benchJob()}
		start := time.Now()
		if i%2 == 0 {
			err = s.Enqueue(ctx, jobs)
			off += time.Since(start)
		} else {
			err = s.EnqueueHistory(ctx, jobs, []HistoryRecord{{Form: "F0", EntryID: "8176", EventKind: "update", RulesID: "rl_x", Doc: doc}})
			on += time.Since(start)
		}
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
	if off > 0 {
		b.ReportMetric(float64(on)/float64(off), "on/off")
	}
}
