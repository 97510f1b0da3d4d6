package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ruleflow/ruleflow/rules"
)

func TestNotesForwarder(t *testing.T) {
	key := testKey(t)
	enc, err := key.Encrypt("note-password")
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		header http.Header
		body   noteJSON
	}
	received := make(chan got, 1)
	status := http.StatusCreated
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n noteJSON
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &n); err != nil {
			t.Errorf("note body %q: %v", b, err)
		}
		received <- got{r.Header.Clone(), n}
		w.WriteHeader(status)
		io.WriteString(w, "refused: ticket locked")
	}))
	defer srv.Close()

	ep := &rules.NotesEndpoint{URL: srv.URL + "/notes", Username: "ruleflow", Password: rules.Secret(enc), Headers: map[string]string{"X-Tenant": "demo"}}
	f := NewNotesForwarder(ep, key, srv.Client())
	if err := f.AddNote(context.Background(), "Ticket", "8176", "Callout delivered"); err != nil {
		t.Fatal(err)
	}
	g := <-received
	if g.body != (noteJSON{Form: "Ticket", EntryID: "8176", Text: "Callout delivered"}) {
		t.Errorf("note %+v", g.body)
	}
	req := &http.Request{Header: g.header}
	if u, p, ok := req.BasicAuth(); !ok || u != "ruleflow" || p != "note-password" {
		t.Errorf("basic auth %q %q %v", u, p, ok)
	}
	if g.header.Get("X-Tenant") != "demo" || g.header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", g.header)
	}

	status = http.StatusConflict
	err = f.AddNote(context.Background(), "Ticket", "8176", "x")
	<-received
	want := "notes: POST " + srv.URL + "/notes: status 409: refused: ticket locked"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}

	// Errors never show credentials, even embedded in the URL.
	bad := NewNotesForwarder(&rules.NotesEndpoint{URL: "http://user:url-secret@127.0.0.1:1/notes?token=q-secret"}, key, nil)
	err = bad.AddNote(context.Background(), "Ticket", "1", "x")
	if err == nil || strings.Contains(err.Error(), "url-secret") || strings.Contains(err.Error(), "q-secret") || !strings.HasPrefix(err.Error(), "notes: POST http://127.0.0.1:1/notes: ") {
		t.Errorf("error %v", err)
	}
	wrongKey := NewNotesForwarder(&rules.NotesEndpoint{URL: srv.URL, Username: "u", Password: "enc:v1:garbage"}, key, nil)
	if err := wrongKey.AddNote(context.Background(), "Ticket", "1", "x"); err == nil || !strings.HasPrefix(err.Error(), "notes: password: ") {
		t.Errorf("undecryptable password: %v", err)
	}
	if err := NewNotesForwarder(nil, key, nil).AddNote(context.Background(), "T", "1", "x"); err == nil || err.Error() != "notes: no endpoint configured" {
		t.Errorf("no endpoint: %v", err)
	}
}
