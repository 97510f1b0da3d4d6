package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/engine/httpapi"
	"github.com/ruleflow/ruleflow/rules"
)

// TestNotesClientFollowsEgress: serve's notes forwarder sends through the engine's
// guarded client, so egress.strict refuses a loopback notes endpoint, and the
// default lets it through. Redirects are not followed.
func TestNotesClientFollowsEgress(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/notes", http.StatusFound)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	note := func(egress, path string) error {
		cfg, err := rules.Parse("serve.yaml", []byte("version: 1\n"+egress))
		if err != nil {
			t.Fatal(err)
		}
		eng, err := engine.Open(context.Background(), engine.Options{Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		f := httpapi.NewNotesForwarder(&rules.NotesEndpoint{URL: srv.URL + path}, nil, notesClient(eng))
		return f.AddNote(context.Background(), "Ticket", "1", "x")
	}
	if err := note("", "/notes"); err != nil || hits.Load() != 1 {
		t.Fatalf("default policy: %v (hits %d), want delivered", err, hits.Load())
	}
	err := note("egress: {strict: true}\n", "/notes")
	if err == nil || !strings.HasSuffix(err.Error(), "egress refused: 127.0.0.1 is loopback, refused by egress.strict (egress.allow lifts this)") || hits.Load() != 1 {
		t.Fatalf("strict: %v (hits %d), want refused", err, hits.Load())
	}
	if err := note("", "/moved"); err == nil || !strings.Contains(err.Error(), "status 302") || hits.Load() != 2 {
		t.Fatalf("redirect: %v (hits %d), want status 302 unfollowed", err, hits.Load())
	}
}
