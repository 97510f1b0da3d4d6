package httpapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/ruleflow/ruleflow/callouts"
	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/rules"
)

// MaxLookupBody is the largest record a lookup endpoint may answer.
const MaxLookupBody = 4 << 20

// LookupForwarder reads the fresh values of a record from the ticketing system's
// HTTP endpoint (the configuration's `lookup:` block) when a timer of a time-based
// rule falls due: GET URL?form=FORM&entry_id=ID, with the endpoint's headers and,
// when a username is set, HTTP Basic auth. A 200 answer is the record as a JSON
// object of field values, decoded by the form's schema as events are; 404 means the
// record is gone (engine.ErrRecordNotFound). It is the engine.RecordLookup of
// `ruleflow serve`.
type LookupForwarder struct {
	ep     *rules.LookupEndpoint
	cfg    *rules.Config
	key    *rules.Key
	client *http.Client
}

// NewLookupForwarder returns a RecordLookup reading from ep, decoding records by
// cfg's forms. key decrypts an `enc:v1:` password; client nil means
// callouts.NewClient. Each lookup is bounded by ep.Timeout (default 10 s).
func NewLookupForwarder(ep *rules.LookupEndpoint, cfg *rules.Config, key *rules.Key, client *http.Client) engine.RecordLookup {
	if client == nil {
		client = callouts.NewClient()
	}
	return &LookupForwarder{ep: ep, cfg: cfg, key: key, client: client}
}

// Lookup reads one record. Errors never contain the password or the query.
func (f *LookupForwarder) Lookup(ctx context.Context, form, entryID string) (rules.Record, error) {
	u, err := url.Parse(f.ep.URL)
	if err != nil {
		return nil, fmt.Errorf("lookup: invalid URL")
	}
	q := u.Query()
	q.Set("form", form)
	q.Set("entry_id", entryID)
	u.RawQuery = q.Encode()
	timeout := f.ep.Timeout.Std()
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("lookup: %w", err)
	}
	for k, v := range f.ep.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "ruleflow/"+engine.Version())
	if f.ep.Username != "" {
		password, err := f.ep.Password.Value(f.key)
		if err != nil {
			return nil, fmt.Errorf("lookup: password: %w", err)
		}
		req.SetBasicAuth(f.ep.Username, password)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("lookup: GET %s: %w", redactURL(f.ep.URL), unwrapURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxLookupBody+1))
	if err != nil {
		return nil, fmt.Errorf("lookup: GET %s: %w", redactURL(f.ep.URL), err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("lookup: %s %s: %w", form, entryID, engine.ErrRecordNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("lookup: GET %s: status %d: %s", redactURL(f.ep.URL), resp.StatusCode, clipText(body, 200))
	case len(body) > MaxLookupBody:
		return nil, fmt.Errorf("lookup: GET %s: record larger than %d bytes", redactURL(f.ep.URL), MaxLookupBody)
	}
	fm, ok := f.cfg.Form(form)
	if !ok {
		return nil, fmt.Errorf("lookup: unknown form %q", form)
	}
	rec, err := rules.DecodeRecord(body, fm.Schema, f.cfg.Location)
	if err != nil {
		return nil, fmt.Errorf("lookup: %s %s: %w", form, entryID, err)
	}
	return rec, nil
}

func clipText(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
