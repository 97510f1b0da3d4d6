package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/rules"
)

func TestLookupForwarder(t *testing.T) {
	var gotQuery, gotUser, gotPass, gotHeader string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotQuery, gotHeader = r.URL.RawQuery, r.Header.Get("X-Tenant")
		gotUser, gotPass, _ = r.BasicAuth()
		switch r.URL.Query().Get("entry_id") {
		case "1":
			w.Write([]byte(`{"TicketID":1,"Status":"Complete","DueDate":"2030-01-01T12:00:00Z"}`))
		case "2":
			http.NotFound(w, r)
		case "3":
			w.Write([]byte(`{"Status":"Nope"}`))
		default:
			http.Error(w, "boom", 500)
		}
	}))
	defer srv.Close()
	cfg := loadConfig(t, filepath.Join("testdata", "timers.yaml"))
	ep := &rules.LookupEndpoint{URL: srv.URL + "/records?tenant=a", Username: "svc", Password: "s3cret", Headers: map[string]string{"X-Tenant": "a"}}
	lk := NewLookupForwarder(ep, cfg, testKey(t), srv.Client())
	ctx := context.Background()
	rec, err := lk.Lookup(ctx, "Ticket", "1")
	if err != nil {
		t.Fatal(err)
	}
	if rec["Status"] != "Complete" || rec["TicketID"] != int64(1) || !rec["DueDate"].(time.Time).Equal(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("record = %#v", rec)
	}
	if gotQuery != "entry_id=1&form=Ticket&tenant=a" || gotUser != "svc" || gotPass != "s3cret" || gotHeader != "a" {
		t.Errorf("request: query %q, auth %q/%q, header %q", gotQuery, gotUser, gotPass, gotHeader)
	}
	if _, err := lk.Lookup(ctx, "Ticket", "2"); !errors.Is(err, engine.ErrRecordNotFound) {
		t.Errorf("404: %v, want ErrRecordNotFound", err)
	}
	for id, want := range map[string]string{
		"3": `lookup: Ticket 3: field "Status": unknown option "Nope" (want "New" or "Complete", or an index 0 to 1)`,
		"4": "lookup: GET " + srv.URL + "/records: status 500: boom\n",
	} {
		_, err := lk.Lookup(ctx, "Ticket", id)
		if err == nil || err.Error() != want {
			t.Errorf("entry %s: %v, want %q", id, err, want)
		}
	}
}
