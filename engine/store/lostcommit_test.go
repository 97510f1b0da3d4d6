package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// commitCutter is a TCP proxy on 127.0.0.1 in front of PostgreSQL that, once armed,
// forwards the next COMMIT to the server and then drops the connection without
// passing the server's reply on: the commit happens, the client never learns it.
type commitCutter struct {
	ln     net.Listener
	target string
	armed  atomic.Bool
	cuts   atomic.Int32
	wg     sync.WaitGroup
}

func newCommitCutter(t *testing.T, target string) *commitCutter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &commitCutter{ln: ln, target: target}
	p.wg.Go(p.accept)
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *commitCutter) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		var cut atomic.Bool
		p.wg.Go(func() { p.toServer(client, server, &cut) })
		p.wg.Go(func() {
			// Server to client, until the cut: the reply to the COMMIT is read
			// after the cut is set, so it is never passed on. The server closing
			// (after a cancel request, say) closes the client side too.
			defer client.Close()
			buf := make([]byte, 32<<10)
			for {
				n, err := server.Read(buf)
				if n > 0 && !cut.Load() {
					if _, werr := client.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		})
	}
}

// isCommitSQL reports whether the NUL-terminated query at the start of b is COMMIT.
func isCommitSQL(b []byte) bool {
	q, _, _ := bytes.Cut(b, []byte{0})
	return strings.EqualFold(strings.TrimSpace(string(q)), "commit")
}

// toServer forwards the client's messages, parsing the protocol's framing (the
// startup message has no type byte; every later one is type, int32 length).
func (p *commitCutter) toServer(client, server net.Conn, cut *atomic.Bool) {
	defer client.Close()
	defer server.Close()
	var hdr [4]byte
	if _, err := io.ReadFull(client, hdr[:]); err != nil {
		return
	}
	startup := make([]byte, binary.BigEndian.Uint32(hdr[:])-4)
	if _, err := io.ReadFull(client, startup); err != nil {
		return
	}
	if _, err := server.Write(append(hdr[:], startup...)); err != nil {
		return
	}
	commitStmts := map[string]bool{} // prepared statement names, true for COMMIT
	boundCommit := false             // a COMMIT was bound since the last Sync
	for {
		var h [5]byte
		if _, err := io.ReadFull(client, h[:]); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(h[1:])-4)
		if _, err := io.ReadFull(client, body); err != nil {
			return
		}
		isCommit := h[0] == 'Q' && isCommitSQL(body)
		// The extended protocol (a COMMIT pipelined in a batch): Parse names the
		// statement, Bind runs it, and the server answers after the Sync.
		switch h[0] {
		case 'P':
			name, rest, _ := bytes.Cut(body, []byte{0})
			commitStmts[string(name)] = isCommitSQL(rest)
		case 'B':
			_, rest, _ := bytes.Cut(body, []byte{0})
			stmt, _, _ := bytes.Cut(rest, []byte{0})
			boundCommit = boundCommit || commitStmts[string(stmt)]
		case 'S':
			isCommit, boundCommit = boundCommit, false
		}
		if isCommit && p.armed.CompareAndSwap(true, false) {
			cut.Store(true)
			server.Write(append(h[:], body...))
			time.Sleep(300 * time.Millisecond) // the server commits; its reply is dropped
			p.cuts.Add(1)
			return
		}
		if _, err := server.Write(append(h[:], body...)); err != nil {
			return
		}
	}
}

// openThroughCommitCutter opens a PostgreSQL store whose connections go through a
// commitCutter; the store is closed when the test ends.
func openThroughCommitCutter(t *testing.T) (*Store, *commitCutter) {
	t.Helper()
	u, err := url.Parse(postgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	cutter := newCommitCutter(t, u.Host)
	u.Host = cutter.ln.Addr().String()
	s, err := Open(context.Background(), u.String())
	if err != nil {
		t.Fatalf("Open through the proxy: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, cutter
}

// TestEnqueueLostCommitReply: the COMMIT of an Enqueue reaches PostgreSQL and
// commits, but its reply is lost with the connection. Before, Enqueue reported the
// error although the rows were stored (a caller retrying would then fail on the
// taken IDs). Now the committer runs the insert again, finds the identical rows
// and reports success; nothing is duplicated.
func TestEnqueueLostCommitReply(t *testing.T) {
	s, cutter := openThroughCommitCutter(t)

	now := time.Now()
	jobs := []Job{
		{ID: NewID(JobIDPrefix, now), Kind: KindCallout, Callout: "C", Form: "Ticket", EntryID: "1", Payload: []byte("a"), MaxAttempts: 3, CreatedAt: now},
		{ID: NewID(JobIDPrefix, now), Kind: KindCallout, Callout: "C", Form: "Ticket", EntryID: "2", Payload: []byte("b"), MaxAttempts: 3, CreatedAt: now},
	}
	cutter.armed.Store(true)
	if err := s.Enqueue(context.Background(), jobs); err != nil {
		t.Fatalf("Enqueue after a lost COMMIT reply: %v (the rows did commit)", err)
	}
	if cutter.cuts.Load() != 1 {
		t.Fatalf("the proxy cut %d commits, want 1: the test did not lose a reply", cutter.cuts.Load())
	}
	got, err := s.List(context.Background(), Filter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID == got[1].ID || got[0].ID != jobs[0].ID && got[0].ID != jobs[1].ID || got[1].ID != jobs[0].ID && got[1].ID != jobs[1].ID {
		t.Fatalf("stored %d jobs %+v, want the 2 enqueued once", len(got), got)
	}

	// Idempotent means compare: the same ID with other content is still refused.
	other := jobs[0]
	other.Payload = []byte("changed")
	if err := s.Enqueue(context.Background(), []Job{other}); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("Enqueue of a different job under a taken ID: %v, want ErrDuplicate", err)
	}
}

// TestMergedEnqueueLostCommitReply: as TestEnqueueLostCommitReply, for a group of
// Enqueues whose merged INSERT is pipelined with the COMMIT in one batch (the
// extended protocol). The lost reply leaves the outcome unknown; the committer
// runs each Enqueue again alone, and each finds its rows.
func TestMergedEnqueueLostCommitReply(t *testing.T) {
	s, cutter := openThroughCommitCutter(t)

	// Hold the committer until both Enqueues are queued, so they share a group.
	release, running := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- s.committer.do(context.Background(), 1, func(context.Context, tx) (error, error) {
			close(running)
			<-release
			return nil, nil
		})
	}()
	<-running // the committer is inside the held op: the Enqueues queue behind it
	now := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	var jobs [2]Job
	for i := range jobs {
		jobs[i] = Job{ID: NewID(JobIDPrefix, now), Kind: KindCallout, Callout: "C", Form: "Ticket", EntryID: "1", Payload: []byte{byte('a' + i)}, MaxAttempts: 3, CreatedAt: now}
		wg.Go(func() { errs[i] = s.Enqueue(context.Background(), []Job{jobs[i]}) })
	}
	for len(s.committer.ops) < 2 {
		time.Sleep(time.Millisecond)
	}
	cutter.armed.Store(true)
	close(release)
	wg.Wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("Enqueue %d after a lost COMMIT reply: %v (the rows did commit)", i, err)
		}
	}
	if cutter.cuts.Load() != 1 {
		t.Fatalf("the proxy cut %d commits, want 1: the test did not lose a reply", cutter.cuts.Load())
	}
	got, err := s.List(context.Background(), Filter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("stored %d jobs, want the 2 enqueued, once each", len(got))
	}
}
