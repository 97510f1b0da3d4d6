package engine

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// The timer crash test runs an engine in a child process (this test binary
// re-executed with -test.run=^TestTimerCrashChild$) that arms overdue timers and
// fires them, and kills it with SIGKILL while it fires; a second engine then takes
// over. Every armed timer must have fired exactly once.
const (
	timerCrashEnvChild   = "RULEFLOW_TIMER_CRASH_CHILD"   // "1" in the child
	timerCrashEnvDSN     = "RULEFLOW_TIMER_CRASH_DSN"     // the store
	timerCrashEnvRecords = "RULEFLOW_TIMER_CRASH_RECORDS" // how many records to arm
)

// TestTimerCrashChild is the child process of TestTimerCrash; run on its own it skips.
func TestTimerCrashChild(t *testing.T) {
	if os.Getenv(timerCrashEnvChild) != "1" {
		t.Skip("helper process of TestTimerCrash*: runs only when re-executed by them")
	}
	n, err := strconv.Atoi(os.Getenv(timerCrashEnvRecords))
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Config: parseConfig(t, "http://127.0.0.1:9", timeRule), Store: os.Getenv(timerCrashEnvDSN),
		NoDispatch: true, Lease: crashLease, NodeID: "timer-crash-child"}
	if n == 0 { // the second child fires slowly, so that it dies holding leases mid-batch
		opts.Lookup = lookupFunc(func(context.Context, string, string) (rules.Record, error) {
			time.Sleep(3 * time.Millisecond)
			return rules.Record{"Status": "New"}, nil
		})
	}
	e := openEngine(t, opts)
	now := time.Now()
	for i := 0; i < n; i += 50 { // n < 0 arms nothing
		var evs []*rules.Event
		for k := i; k < min(n, i+50); k++ {
			evs = append(evs, ticketSave(rules.KindCreate, fmt.Sprint(k), "New", now.Add(-3*time.Hour), now))
		}
		if _, err := e.HandleBatch(context.Background(), evs); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Println("ARMED")
	time.Sleep(time.Minute) // until the parent kills us
	os.Exit(3)
}

func TestTimerCrashSQLite(t *testing.T)   { testTimerCrash(t, sqliteDSN(t)) }
func TestTimerCrashPostgres(t *testing.T) { testTimerCrash(t, postgresDSN(t)) }

func testTimerCrash(t *testing.T, dsn string) {
	if testing.Short() {
		t.Skip("kill -9 test")
	}
	const records = 3000
	// A parent engine that fires nothing watches the store.
	cfg := parseConfig(t, "http://127.0.0.1:9", timeRule)
	watch := openEngine(t, Options{Config: cfg, Store: dsn, NoDispatch: true, NoTimers: true})
	st := watch.Store()
	// The first child is killed while it arms and fires, the second (arming
	// nothing, with a slow lookup) while it holds the leases of a claimed batch.
	var stderr bytes.Buffer
	// The third (arming nothing, no lookup: each batch is claimed, decided and
	// recorded in one transaction) is killed while it fires 2,000 more.
	for round, n := range []int{records, 0, -1} {
		if n <= 0 { // the second and third children must find timers to fire: arm more, overdue
			now := time.Now()
			extra := map[int]int{0: 500, -1: 2000}[n]
			var evs []*rules.Event
			for k := range extra {
				evs = append(evs, ticketSave(rules.KindCreate, fmt.Sprintf("r%d-%d", round, k), "New", now.Add(-3*time.Hour), now))
			}
			if _, err := watch.HandleBatch(context.Background(), evs); err != nil {
				t.Fatal(err)
			}
		}
		before := len(jobsOf(t, st, store.KindCallout))
		target := before + 300
		cmd := exec.Command(os.Args[0], "-test.run=^TestTimerCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), timerCrashEnvChild+"=1", timerCrashEnvDSN+"="+dsn, timerCrashEnvRecords+"="+strconv.Itoa(n))
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		go func() { // drain
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
			}
		}()
		waitFor(t, 60*time.Second, "the child's firings", func() bool {
			if n == 0 { // the second dies holding the leases of a claimed batch
				ts, err := st.ListTimers(context.Background(), store.TimerFilter{Limit: 1000})
				return err == nil && len(ts) > 0 && ts[0].LeaseOwner == "timer-crash-child"
			}
			if n < 0 {
				target = before + 200
			}
			return len(jobsOf(t, st, store.KindCallout)) >= target
		})
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		armed, err := st.CountArmedTimers(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("child %d killed with %d timers fired and %d still armed", round+1, len(jobsOf(t, st, store.KindCallout)), armed)
	}
	// A new node takes over once the dead one's leases (crashLease) run out.
	heir := openEngine(t, Options{Config: cfg, Store: dsn, NoDispatch: true, NodeID: "heir", PollInterval: 100 * time.Millisecond})
	waitFor(t, 60*time.Second, "every timer settled", func() bool {
		n, err := heir.Store().CountArmedTimers(context.Background())
		return err == nil && n == 0
	})
	per := map[string]int{}
	for _, j := range jobsOf(t, st, store.KindCallout) {
		per[j.EntryID]++
	}
	// Each firing's history record was written with it: one per timer, never two.
	hist := timeHistoryCounts(t, st)
	timers := allTimers(t, st)
	if len(timers) == 0 {
		t.Fatalf("no timers armed; child stderr:\n%s", stderr.String())
	}
	for _, tm := range timers {
		if tm.State != store.TimerDone || tm.Fired != 1 || per[tm.EntryID] != 1 {
			t.Errorf("timer for %s: state %s, fired %d, deliveries %d; want done, once", tm.EntryID, tm.State, tm.Fired, per[tm.EntryID])
		}
		if hist[tm.EntryID] != 1 {
			t.Errorf("timer for %s: %d time history records, want 1", tm.EntryID, hist[tm.EntryID])
		}
		delete(per, tm.EntryID)
	}
	if len(per) != 0 {
		t.Errorf("deliveries for records without a timer: %v", per)
	}
	if strings.Contains(stderr.String(), "panic") {
		t.Errorf("child panicked:\n%s", stderr.String())
	}
}

// allTimers lists every timer, armed and done, by record.
func allTimers(t *testing.T, st *store.Store) []store.Timer {
	t.Helper()
	var out []store.Timer
	for i := 0; ; i++ {
		ts, err := st.ListTimers(context.Background(), store.TimerFilter{All: true, Limit: 1000, Offset: i * 1000})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ts...)
		if len(ts) < 1000 {
			return out
		}
	}
}

// timeHistoryCounts counts the history records of kind time of each record.
func timeHistoryCounts(t *testing.T, st *store.Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	before := ""
	for {
		hs, err := st.History(context.Background(), store.HistoryFilter{Before: before, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hs {
			if h.EventKind == "time" {
				out[h.EntryID]++
			}
		}
		if len(hs) < 1000 {
			return out
		}
		before = hs[len(hs)-1].ID
	}
}
