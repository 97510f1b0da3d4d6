package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ruleflow/ruleflow/callouts"
	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/rules"
)

// NotesForwarder adds ticket notes by POSTing them to the ticketing system's HTTP
// endpoint (the configuration's `notes:` block) as JSON {"form","entry_id","text"},
// with the endpoint's headers and, when a username is set, HTTP Basic auth. It is
// the engine.NoteAdder of `ruleflow serve`, for hosts not written in Go.
type NotesForwarder struct {
	ep     *rules.NotesEndpoint
	key    *rules.Key
	client *http.Client
}

// NewNotesForwarder returns a NoteAdder posting to ep. key decrypts an `enc:v1:`
// password; client nil means callouts.NewClient (the egress guard with the
// default policy, no redirects followed) with a 30 s timeout. ruleflow serve
// passes the engine's client, which follows the configuration's egress policy.
func NewNotesForwarder(ep *rules.NotesEndpoint, key *rules.Key, client *http.Client) engine.NoteAdder {
	if client == nil {
		client = callouts.NewClient()
		client.Timeout = 30 * time.Second
	}
	return &NotesForwarder{ep: ep, key: key, client: client}
}

// noteJSON is the body of a forwarded note.
type noteJSON struct {
	Form    string `json:"form"`
	EntryID string `json:"entry_id"`
	Text    string `json:"text"`
}

// AddNote posts one note. Any answer but 2xx is an error quoting the status and the
// start of the response; errors never contain the password.
func (f *NotesForwarder) AddNote(ctx context.Context, form, entryID, text string) error {
	if f.ep == nil || f.ep.URL == "" {
		return fmt.Errorf("notes: no endpoint configured")
	}
	body, err := json.Marshal(noteJSON{Form: form, EntryID: entryID, Text: text})
	if err != nil {
		return fmt.Errorf("notes: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.ep.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("notes: %w", err)
	}
	for k, v := range f.ep.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ruleflow/"+engine.Version())
	if f.ep.Username != "" {
		password, err := f.ep.Password.Value(f.key)
		if err != nil {
			return fmt.Errorf("notes: password: %w", err)
		}
		req.SetBasicAuth(f.ep.Username, password)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return fmt.Errorf("notes: POST %s: %w", redactURL(f.ep.URL), unwrapURLError(err))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("notes: POST %s: status %d: %s", redactURL(f.ep.URL), resp.StatusCode, strings.TrimSpace(string(snippet)))
	}
	return nil
}

// redactURL drops user information from a URL for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}

// unwrapURLError strips the *url.Error wrapper, which repeats the URL with its query.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
