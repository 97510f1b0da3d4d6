package engine

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
)

// overlapReceiver answers every request after delay and records how many requests
// were in flight at once.
type overlapReceiver struct {
	*receiver
	inFlight, most atomic.Int32
}

func newOverlapReceiver(t *testing.T, delay time.Duration) *overlapReceiver {
	o := &overlapReceiver{}
	o.receiver = newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		now := o.inFlight.Add(1)
		defer o.inFlight.Add(-1)
		for {
			m := o.most.Load()
			if now <= m || o.most.CompareAndSwap(m, now) {
				break
			}
		}
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
		}
		io.WriteString(w, "ok")
	})
	return o
}

// slowCallout is oneCallout with a timeout.
func slowCallout(timeout string) string {
	return strings.Replace(oneCallout, "    format: name-value\n", "    format: name-value\n    timeout: "+timeout+"\n", 1)
}

// TestLeaseFollowsReloadedTimeout: a reload (SIGHUP) raises the callout's timeout
// above the lease the engine started with; the delivery, whose receiver answers
// after 1.5 s, is still sent exactly once: the lease covers the timeout in force.
// (Before, the lease was fixed at start: the engine re-claimed its own job when the
// lease ran out and sent it again, several times at once.)
func TestLeaseFollowsReloadedTimeout(t *testing.T) {
	t.Parallel()
	rc := newOverlapReceiver(t, 1500*time.Millisecond)
	e := openEngine(t, Options{Config: parseConfig(t, rc.URL, slowCallout("200ms")), Store: sqliteDSN(t),
		Lease: 300 * time.Millisecond, PollInterval: 20 * time.Millisecond, Workers: 4})
	if err := e.Reload(parseConfig(t, rc.URL, slowCallout("3s"))); err != nil {
		t.Fatal(err)
	}
	id := handleOne(t, e, completeEvent(1))
	job, attempts := waitSettled(t, e.Store(), id, 10*time.Second)
	// Give a second claim (the defect) its chance to show.
	time.Sleep(500 * time.Millisecond)
	if job.Status != store.StatusDelivered || len(attempts) != 1 {
		t.Errorf("job %s after %d attempts, want delivered after 1", job.Status, len(attempts))
	}
	if n, most := rc.count(), rc.most.Load(); n != 1 || most != 1 {
		t.Errorf("receiver saw %d requests, at most %d at once; want 1", n, most)
	}
}

// TestLeaseLongerThanItWasClaimedFor: a job claimed under a short timeout whose
// lease ran down in the queue is extended before it is attempted, and the extension
// is refused to an owner that lost the job.
func TestLeaseExtendedBeforeAttempt(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), sqliteDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	jobs := []store.Job{{Kind: store.KindCallout, Callout: "c", MaxAttempts: 1, NextAt: now}}
	if err := st.Enqueue(context.Background(), jobs); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Claim(context.Background(), "a", 1, time.Second, now); err != nil {
		t.Fatal(err)
	}
	if err := st.Extend(context.Background(), jobs[0].ID, "a", time.Minute, now); err != nil {
		t.Fatalf("Extend by the owner: %v", err)
	}
	if got, _ := st.Claim(context.Background(), "b", 1, time.Second, now.Add(30*time.Second)); len(got) != 0 {
		t.Fatalf("claimed an extended lease after 30 s")
	}
	got, err := st.Claim(context.Background(), "b", 1, time.Second, now.Add(61*time.Second))
	if err != nil || len(got) != 1 {
		t.Fatalf("claim after the extended lease = %d jobs, %v", len(got), err)
	}
	if err := st.Extend(context.Background(), jobs[0].ID, "a", time.Minute, now); fmt.Sprint(err) != "store: job "+jobs[0].ID+": lease lost" {
		t.Errorf("Extend by the old owner err = %v, want lease lost", err)
	}
}

// tarpitSMTP is a raw SMTP server on 127.0.0.1 that accepts every message but
// answers the end of DATA only after delay, like a slow or overloaded relay.
type tarpitSMTP struct {
	port     int
	delay    time.Duration
	mu       sync.Mutex
	messages int // DATA bodies received in full
}

func startTarpitSMTP(t *testing.T, delay time.Duration) *tarpitSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tp := &tarpitSMTP{port: ln.Addr().(*net.TCPAddr).Port, delay: delay}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				tp.serve(conn)
			}()
		}
	}()
	return tp
}

func (tp *tarpitSMTP) serve(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	reply := func(s string) { io.WriteString(conn, s+"\r\n") }
	reply("220 tarpit.test ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			reply("250 tarpit.test")
		case strings.HasPrefix(cmd, "DATA"):
			reply("354 go ahead")
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" || l == ".\n" {
					break
				}
			}
			tp.mu.Lock()
			tp.messages++
			tp.mu.Unlock()
			time.Sleep(tp.delay)
			reply("250 queued")
		case strings.HasPrefix(cmd, "QUIT"):
			reply("221 bye")
			return
		default: // MAIL, RCPT, RSET, NOOP
			reply("250 ok")
		}
	}
}

func (tp *tarpitSMTP) count() int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.messages
}

// TestLeaseCoversEmailSend: an SMTP relay that answers DATA after 1.5 s, far longer
// than the callout timeouts the lease was once derived from, still gets the
// notification exactly once: an e-mail's lease covers its SMTP connect + send time.
func TestLeaseCoversEmailSend(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	tp := startTarpitSMTP(t, 1500*time.Millisecond)
	cfg := parseConfig(t, rc.URL, fmt.Sprintf(`
smtp: {host: 127.0.0.1, port: %d, tls: none, from: ruleflow@example.com, connect_timeout: 2s, send_timeout: 3s}
callouts:
  - name: RMM
    url: "{{URL}}/hook"
    format: name-value
    timeout: 200ms
    notify: {to: [ops@example.com]}
rules:
  - {name: Close alert, form: Ticket, events: [update], callouts: [RMM]}
`, tp.port))
	e := openEngine(t, Options{Config: cfg, Store: sqliteDSN(t), Lease: 300 * time.Millisecond,
		PollInterval: 20 * time.Millisecond, Workers: 4})
	id := handleOne(t, e, completeEvent(2))
	waitSettled(t, e.Store(), id, 5*time.Second)
	var mail store.Job
	waitFor(t, 10*time.Second, "the e-mail to settle", func() bool {
		mails := jobsOf(t, e.Store(), store.KindEmail)
		if len(mails) == 1 && mails[0].Status != store.StatusPending {
			mail = mails[0]
			return true
		}
		return false
	})
	time.Sleep(300 * time.Millisecond) // a second send (the defect) would be under way
	if mail.Status != store.StatusDelivered || mail.Attempts != 1 {
		t.Errorf("e-mail %s after %d attempts, want delivered after 1", mail.Status, mail.Attempts)
	}
	if n := tp.count(); n != 1 {
		t.Errorf("the relay received the notification %d times, want once", n)
	}
}

// TestLeaseOnDatabaseClock: a node whose clock runs 55 s ahead does not take over
// another node's job in flight (PostgreSQL): leases are judged on the database's
// clock, not the claiming node's.
func TestLeaseOnDatabaseClock(t *testing.T) {
	t.Parallel()
	dsn := postgresDSN(t)
	rc := newOverlapReceiver(t, 2*time.Second)
	cfg := parseConfig(t, rc.URL, slowCallout("5s"))
	a := openEngine(t, Options{Config: cfg, Store: dsn, Lease: 5 * time.Second, NodeID: "a", PollInterval: 50 * time.Millisecond})
	id := handleOne(t, a, completeEvent(3))
	waitFor(t, 5*time.Second, "node a's request", func() bool { return rc.count() == 1 })
	ahead := func() time.Time { return time.Now().Add(55 * time.Second) }
	b := openEngine(t, Options{Config: cfg, Store: dsn, Lease: 5 * time.Second, NodeID: "b-ahead",
		Now: ahead, PollInterval: 50 * time.Millisecond})
	job, attempts := waitSettled(t, b.Store(), id, 10*time.Second)
	if job.Status != store.StatusDelivered || len(attempts) != 1 {
		t.Errorf("job %s after %d attempts, want delivered after 1", job.Status, len(attempts))
	}
	if n := rc.count(); n != 1 {
		t.Errorf("receiver saw %d requests, want 1 (the skewed node took the job over)", n)
	}
}

// TestMailRetrySchedule: notification e-mails retry on the one typed policy,
// exponential from 10 s with equal jitter, capped at 30 min; a job re-driven past
// the schedule keeps its last delay.
func TestMailRetrySchedule(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	e := &Engine{now: func() time.Time { return now }}
	for _, tt := range []struct {
		attempts      int // before this one
		lowest, upper time.Duration
	}{
		{0, 5 * time.Second, 10 * time.Second},
		{1, 10 * time.Second, 20 * time.Second},
		{3, 40 * time.Second, 80 * time.Second},
		{20, 15 * time.Minute, 30 * time.Minute},
		{60, 15 * time.Minute, 30 * time.Minute},
	} {
		job := store.Job{Attempts: tt.attempts, MaxAttempts: 100}
		out := e.retryOrFail(store.Outcome{}, job, false, nil)
		if d := out.NextAt.Sub(now); out.Status != store.StatusPending || d < tt.lowest || d > tt.upper {
			t.Errorf("after %d attempts: %s, next in %v; want pending in [%v, %v]", tt.attempts+1, out.Status, d, tt.lowest, tt.upper)
		}
	}
	if out := e.retryOrFail(store.Outcome{}, store.Job{Attempts: 49, MaxAttempts: 50}, false, nil); out.Status != store.StatusFailed {
		t.Errorf("the 50th attempt: %s, want failed", out.Status)
	}
}
