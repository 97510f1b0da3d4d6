package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// openSQLiteT opens a store on a fresh file in t.TempDir().
func openSQLiteT(t *testing.T) (*Store, func() *Store) {
	t.Helper()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "ruleflow.db")
	open := func() *Store {
		s, err := Open(context.Background(), dsn)
		if err != nil {
			t.Fatalf("Open(%s): %v", dsn, err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	return open(), open
}

func TestSQLite(t *testing.T) {
	runStoreSuite(t, openSQLiteT)
}

func TestSQLitePragmas(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		dsn      string
		wantSync int // PRAGMA synchronous: 1 NORMAL, 2 FULL, 3 EXTRA
	}{
		{"sqlite:" + filepath.Join(dir, "a.db"), 2},
		{"sqlite:" + filepath.Join(dir, "b.db") + "?synchronous=normal&busy_timeout=250ms", 1},
		{"file:" + filepath.Join(dir, "c d#e.db") + "?synchronous=extra", 3},
	}
	for _, tc := range tests {
		t.Run(tc.dsn, func(t *testing.T) {
			s, err := Open(context.Background(), tc.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var mode string
			var sync int
			err = readTx(context.Background(), s.db, func(t tx) error {
				if _, err := queryRow(context.Background(), t, "PRAGMA journal_mode", nil, &mode); err != nil {
					return err
				}
				_, err := queryRow(context.Background(), t, "PRAGMA synchronous", nil, &sync)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if mode != "wal" || sync != tc.wantSync {
				t.Errorf("journal_mode = %s, synchronous = %d; want wal, %d", mode, sync, tc.wantSync)
			}
			if s.Driver() != DriverSQLite {
				t.Errorf("Driver = %s", s.Driver())
			}
			d, _ := ParseDSN(tc.dsn)
			for _, name := range []string{d.Path, d.Path + "-wal"} {
				fi, err := os.Stat(name)
				if err != nil {
					t.Errorf("database not created under its own name (URI-special characters?): %v", err)
				} else if perm := fi.Mode().Perm(); perm != 0o600 {
					t.Errorf("%s mode = %#o, want 0600 (payloads may hold credentials)", filepath.Base(name), perm)
				}
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dsn     string
		wantErr string
	}{
		{"mysql://root@localhost/db", `store: dsn "mysql://root@localhost/db": unsupported scheme "mysql" (want sqlite:PATH, sqlite:///ABSPATH, file:PATH, postgres://… or postgresql://…)`},
		{"sqlite:" + filepath.Join(dir, "missing", "x.db"), "store: open sqlite:" + filepath.Join(dir, "missing", "x.db") + ": database directory: stat " + filepath.Join(dir, "missing") + ": no such file or directory"},
		{"sqlite:" + garbage, "store: open sqlite:" + garbage + ": file is not a database (26)"},
	}
	for _, tc := range tests {
		t.Run(tc.dsn, func(t *testing.T) {
			s, err := Open(context.Background(), tc.dsn)
			if err == nil {
				s.Close()
				t.Fatalf("Open succeeded, want %q", tc.wantErr)
			}
			if got := err.Error(); got != tc.wantErr {
				t.Errorf("err = %q\nwant  %q", got, tc.wantErr)
			}
		})
	}
}

// TestSQLiteConcurrentClaim: two handles on one file (as two processes would have),
// three claiming goroutines, 2,000 jobs: each claimed exactly once.
func TestSQLiteConcurrentClaim(t *testing.T) {
	// Two handles on one file take turns at the write lock, and SQLite's busy
	// handler is not fair: under -race on a loaded machine a claim can wait longer
	// than the default 5 s. This test is about exactly-once claims, not that
	// timeout, so it gives the handles the operator's knob turned up.
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "ruleflow.db") + "?busy_timeout=2m"
	open := func() *Store {
		s, err := Open(context.Background(), dsn)
		if err != nil {
			t.Fatalf("Open(%s): %v", dsn, err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	want := enqueueN(t, a, 2000)
	claimAllConcurrently(t, []*Store{a, b, a}, 1, 16, want)
}

const crashChildEnv = "RULEFLOW_STORE_CRASH_CHILD"

// TestSQLiteCrashChild is the child half of TestSQLiteCrash: it enqueues jobs from
// several goroutines forever and prints each job ID once its Enqueue returned.
func TestSQLiteCrashChild(t *testing.T) {
	dsn := os.Getenv(crashChildEnv)
	if dsn == "" {
		t.Skip("runs only as the child process of TestSQLiteCrash")
	}
	s, err := Open(context.Background(), dsn)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				jobs := make([]Job, 1+(g+i)%3)
				for k := range jobs {
					jobs[k] = Job{Kind: KindCallout, MaxAttempts: 3, Payload: []byte(`{"crash":true}`)}
				}
				if err := s.Enqueue(context.Background(), jobs); err != nil {
					fmt.Println("error", err)
					os.Exit(2)
				}
				mu.Lock()
				for _, j := range jobs {
					fmt.Println("ok", j.ID)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestSQLiteCrash SIGKILLs a process that is enqueuing and checks that every job
// whose Enqueue had returned survives.
func TestSQLiteCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the crash test (spawns a child process)")
	}
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestSQLiteCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dsn)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	sc := bufio.NewScanner(out)
	killed := false
	deadline := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		line := sc.Text()
		if id, ok := strings.CutPrefix(line, "ok "); ok {
			acked = append(acked, id)
		} else if strings.HasPrefix(line, "error") {
			t.Errorf("child: %s", line)
		}
		if !killed && len(acked) >= 400 {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true // keep reading: lines already written were acknowledged
		}
	}
	cmd.Wait()
	if !killed {
		t.Fatalf("child ended before it was killed, after %d jobs", len(acked))
	}

	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	defer s.Close()
	stored := map[string]bool{}
	for after := ""; ; {
		page, err := s.List(context.Background(), Filter{After: after, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, j := range page {
			stored[j.ID] = true
		}
		after = page[len(page)-1].ID
	}
	var lost []string
	for _, id := range acked {
		if !stored[id] {
			lost = append(lost, id)
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d of %d acknowledged jobs lost after SIGKILL, e.g. %s", len(lost), len(acked), lost[0])
	}
	t.Logf("child acknowledged %d jobs before SIGKILL; %d stored", len(acked), len(stored))
}

// TestOptionsMaxBatch: MaxBatch 1 turns group commit off (one transaction per call).
func TestOptionsMaxBatch(t *testing.T) {
	s, err := OpenOptions(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "b.db"), Options{MaxBatch: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := s.Enqueue(context.Background(), []Job{{Kind: KindEmail, MaxAttempts: 1}}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := s.committer.commits.Load(); got != 20 {
		t.Errorf("20 Enqueue calls with MaxBatch 1 took %d transactions, want 20", got)
	}
}
