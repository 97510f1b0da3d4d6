package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// firedNames lists what a Result fired as "rule/callout".
func firedNames(res *Result) []string {
	var out []string
	for _, f := range res.Fired {
		out = append(out, f.Rule+"/"+f.Callout)
	}
	return out
}

// TestHandleEnqueuesDurably: the deliveries are in the outbox when Handle returns:
// a fresh store on the same file (as after a crash) finds each of them, pending,
// with the request rendered at Handle time.
func TestHandleEnqueuesDurably(t *testing.T) {
	dsn := sqliteDSN(t)
	cfg := parseConfig(t, "http://127.0.0.1:9", oneCallout+`
  - name: Also on complete
    form: Ticket
    events: [update]
    condition: "'Status' = \"Complete\""
    callouts: [RMM]
`)
	e := openEngine(t, Options{Config: cfg, Store: dsn, NoDispatch: true})
	res, err := e.Handle(context.Background(), completeEvent(8176))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if diff := cmp.Diff([]string{"Close alert/RMM", "Also on complete/RMM"}, firedNames(res)); diff != "" {
		t.Fatalf("fired (-want +got):\n%s", diff)
	}
	ids := []string{res.Fired[0].DeliveryID, res.Fired[1].DeliveryID}
	if ids[0] == "" || ids[1] == "" || ids[0] == ids[1] {
		t.Fatalf("delivery IDs = %q, want two distinct IDs", ids)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i, id := range ids {
		job, attempts, err := st.Get(context.Background(), id)
		if err != nil {
			t.Fatalf("Get %s after reopening: %v", id, err)
		}
		if len(attempts) != 0 {
			t.Errorf("job %s has %d attempts, want none (NoDispatch)", id, len(attempts))
		}
		got := fmt.Sprintf("%s %s %s/%s %s %s %s max=%d", job.Kind, job.Status, job.Rule, job.Callout, job.Form, job.EntryID, job.EventKind, job.MaxAttempts)
		want := fmt.Sprintf("callout pending %s %s %s %s max=3", res.Fired[i].Rule+"/RMM", "Ticket", "8176", "update")
		if got != want {
			t.Errorf("job %s = %q, want %q", id, got, want)
		}
		p, err := DecodeDeliveryPayload(job.Payload)
		if err != nil {
			t.Fatalf("payload: %v", err)
		}
		wantBody := "id=8176&number=T20261120.8176&status=Complete&created_datetime=&last_activity_datetime=&domain=TEST.COM&udf="
		if p.Request.Method != "POST" || p.Request.URL != "http://127.0.0.1:9/hook" || string(p.Request.Body) != wantBody {
			t.Errorf("stored request = %s %s %q, want POST http://127.0.0.1:9/hook %q", p.Request.Method, p.Request.URL, p.Request.Body, wantBody)
		}
		if p.TicketNumber != "T20261120.8176" || p.Policy.Max != 2 {
			t.Errorf("payload ticket %q policy %+v, want T20261120.8176 and max 2", p.TicketNumber, p.Policy)
		}
	}
}

// TestHandleDryRun: without a store Handle decides and renders but stores nothing.
func TestHandleDryRun(t *testing.T) {
	e := openEngine(t, Options{Config: parseConfig(t, "http://127.0.0.1:9", oneCallout)})
	if e.Store() != nil {
		t.Fatal("Store() != nil without Options.Store")
	}
	res, err := e.Handle(context.Background(), completeEvent(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fired) != 1 || res.Fired[0].DeliveryID != "" || res.Fired[0].Request == nil {
		t.Fatalf("fired = %+v, want one rendered request without delivery ID", res.Fired)
	}
	if got, want := string(res.Fired[0].Request.Body), "id=1&number=T20261120.0001&status=Complete&created_datetime=&last_activity_datetime=&domain=TEST.COM&udf="; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
}

// TestHandleMatching: which events fire what (table-driven over events).
func TestHandleMatching(t *testing.T) {
	cfg := parseConfig(t, "http://127.0.0.1:9", `
callouts:
  - {name: A, url: "{{URL}}/a", format: name-value}
  - {name: B, url: "{{URL}}/b", format: xmlrpc, method_name: closeAlert}
rules:
  - name: completed
    form: Ticket
    events: [update]
    condition: "'Status' = \"Complete\" AND 'TR.Status' != $NULL$"
    callouts: [A, B]
  - name: created urgent
    form: Ticket
    events: [create]
    condition: "'Priority' >= \"High\" AND 'Title' LIKE \"%outage%\""
    callouts: [B]
  - name: deleted
    form: Ticket
    events: [delete]
    callouts: [A]
`)
	e := openEngine(t, Options{Config: cfg})
	tests := []struct {
		name string
		ev   *rules.Event
		want []string
	}{
		{"update completes", completeEvent(1), []string{"completed/A", "completed/B"}},
		{"update without status change", &rules.Event{Kind: rules.KindUpdate, Form: "Ticket", EntryID: "2",
			Before: rules.Record{"Status": "Complete", "Title": "x"}, After: rules.Record{"Status": "Complete", "Title": "y"}}, nil},
		{"create high outage", &rules.Event{Kind: rules.KindCreate, Form: "Ticket", EntryID: "3",
			After: rules.Record{"Priority": "Critical", "Title": "mail outage"}}, []string{"created urgent/B"}},
		{"create low outage", &rules.Event{Kind: rules.KindCreate, Form: "Ticket", EntryID: "4",
			After: rules.Record{"Priority": "Low", "Title": "mail outage"}}, nil},
		{"delete", &rules.Event{Kind: rules.KindDelete, Form: "Ticket", EntryID: "5",
			Before: rules.Record{"Status": "New"}}, []string{"deleted/A"}},
		{"other form", &rules.Event{Kind: rules.KindDelete, Form: "Contact", EntryID: "6"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := e.Handle(context.Background(), tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, firedNames(res)); diff != "" {
				t.Errorf("fired (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHandleRuleError: a rule whose condition cannot be evaluated for an event does
// not fire and is reported in Result.RuleErrors with the positioned error; the other
// rules fire and are enqueued as usual.
func TestHandleRuleError(t *testing.T) {
	cfg := parseConfig(t, "http://127.0.0.1:9", oneCallout+`
  - name: Ratio
    form: Ticket
    events: [update]
    condition: "'TicketID' / 'Divisor' > 1"
    callouts: [RMM]
`)
	e := openEngine(t, Options{Config: cfg, Store: sqliteDSN(t), NoDispatch: true})
	tests := []struct {
		name        string
		divisor     int64
		wantFired   []string
		wantRuleErr string
	}{
		{"division by zero", 0, []string{"Close alert/RMM"},
			"rule \"Ratio\": qualification:1:12: division by zero\n'TicketID' / 'Divisor' > 1\n           ^"},
		{"valid divisor", 2, []string{"Close alert/RMM", "Ratio/RMM"}, ""},
	}
	total := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := completeEvent(7)
			ev.After["Divisor"] = tt.divisor
			res, err := e.Handle(context.Background(), ev)
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if diff := cmp.Diff(tt.wantFired, firedNames(res)); diff != "" {
				t.Errorf("fired (-want +got):\n%s", diff)
			}
			gotErr := ""
			if res.RuleErrors != nil {
				gotErr = res.RuleErrors.Error()
			}
			if gotErr != tt.wantRuleErr {
				t.Errorf("RuleErrors = %q, want %q", gotErr, tt.wantRuleErr)
			}
			total += len(tt.wantFired)
			if got := len(jobsOf(t, e.Store(), store.KindCallout)); got != total {
				t.Errorf("outbox holds %d deliveries, want %d", got, total)
			}
		})
	}
}

// TestHandleRenderErrorIsolated: when one fired callout cannot be rendered (here a
// callout a host built by hand, which the loader would refuse), the others are
// enqueued as usual and the broken one is a delivery that will fail unsent; the
// event does not fail. (Before, Handle failed and stored nothing.)
func TestHandleRenderErrorIsolated(t *testing.T) {
	cfg := parseConfig(t, "http://127.0.0.1:9", `
callouts:
  - {name: Good, url: "{{URL}}/good", format: name-value}
  - {name: Broken, url: "{{URL}}/broken", format: name-value}
rules:
  - {name: first, form: Ticket, events: [update], callouts: [Good]}
  - {name: second, form: Ticket, events: [update], callouts: [Broken]}
`)
	broken, _ := cfg.Callout("Broken")
	broken.Method = "PUT"
	e := openEngine(t, Options{Config: cfg, Store: sqliteDSN(t), NoDispatch: true})
	res, err := e.Handle(context.Background(), completeEvent(3))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	const want = `rule "second": callout "Broken": unsupported method "PUT" (want GET or POST)`
	if res.RenderErrors == nil || res.RenderErrors.Error() != want {
		t.Fatalf("RenderErrors = %v, want %q", res.RenderErrors, want)
	}
	if len(res.Fired) != 2 || res.Fired[0].RenderError != "" || res.Fired[1].RenderError != want {
		t.Fatalf("Fired = %+v", res.Fired)
	}
	jobs := jobsOf(t, e.Store(), store.KindCallout)
	if len(jobs) != 2 || jobs[1].MaxAttempts != 1 {
		t.Errorf("outbox holds %+v, want Good and Broken (one attempt)", jobs)
	}
}

// TestHandleSkipsInactiveAndUDF: inactive callouts and callouts whose UDF is empty
// are reported as skipped and never enqueued.
func TestHandleSkipsInactiveAndUDF(t *testing.T) {
	cfg := parseConfig(t, "http://127.0.0.1:9", `
callouts:
  - {name: Active, url: "{{URL}}/a", format: name-value}
  - {name: Off, url: "{{URL}}/off", format: name-value, active: false}
  - {name: UDF, url: "{{URL}}/udf", format: name-value, udf: RMM Alert ID}
rules:
  - name: all
    form: Ticket
    events: [update]
    callouts: [Active, Off, UDF]
`)
	e := openEngine(t, Options{Config: cfg, Store: sqliteDSN(t), NoDispatch: true})
	ev := completeEvent(5)
	delete(ev.After, "RMM Alert ID")
	res, err := e.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"all/Active"}, firedNames(res)); diff != "" {
		t.Errorf("fired (-want +got):\n%s", diff)
	}
	var skipped []string
	for _, m := range res.Matches {
		for _, s := range m.Skipped {
			skipped = append(skipped, s.Callout.Name+": "+s.Reason)
		}
	}
	if diff := cmp.Diff([]string{"Off: inactive", "UDF: udf RMM Alert ID empty"}, skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	jobs := jobsOf(t, e.Store(), store.KindCallout)
	if len(jobs) != 1 || jobs[0].Callout != "Active" {
		t.Errorf("stored %d jobs (%v), want only the Active callout", len(jobs), jobs)
	}

	// With a UDF value the UDF callout fires and carries it.
	res, err = e.Handle(context.Background(), completeEvent(6))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"all/Active", "all/UDF"}, firedNames(res)); diff != "" {
		t.Errorf("fired with UDF (-want +got):\n%s", diff)
	}
	if body := string(res.Fired[1].Request.Body); !strings.HasSuffix(body, "&udf=ALERT-6") {
		t.Errorf("UDF callout body = %q, want it to end in &udf=ALERT-6", body)
	}
}

// TestReloadDuringHandle: Reload swaps the configuration atomically while events are
// in flight: each Handle sees one configuration, never a mix, and its deliveries
// are stored under that configuration's callouts.
func TestReloadDuringHandle(t *testing.T) {
	mk := func(tag string) *rules.Config {
		return parseConfig(t, "http://127.0.0.1:9", strings.ReplaceAll(`
callouts:
  - {name: X1, url: "{{URL}}/x1", format: name-value}
  - {name: X2, url: "{{URL}}/x2", format: soap, method_name: Close, soap_action: "http://tempuri.org/Close"}
rules:
  - {name: rX1, form: Ticket, events: [update], callouts: [X1]}
  - {name: rX2, form: Ticket, events: [update], condition: "'Status' = \"Complete\"", callouts: [X2]}
`, "X", tag))
	}
	cfgA, cfgB := mk("A"), mk("B")
	e := openEngine(t, Options{Config: cfgA, Store: sqliteDSN(t), NoDispatch: true})

	const workers, perWorker = 4, 25
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		results [][]string
		ids     []string
	)
	stop := make(chan struct{})
	reloads := make(chan int)
	go func() {
		n := 0
		defer func() { reloads <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			cfg := cfgB
			if n%2 == 1 {
				cfg = cfgA
			}
			if err := e.Reload(cfg); err != nil {
				t.Errorf("Reload: %v", err)
				return
			}
			n++
		}
	}()
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				res, err := e.Handle(context.Background(), completeEvent(w*1000+i))
				if err != nil {
					t.Errorf("Handle: %v", err)
					return
				}
				mu.Lock()
				results = append(results, firedNames(res))
				for _, f := range res.Fired {
					ids = append(ids, f.DeliveryID)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(stop)
	if n := <-reloads; n < 2 {
		t.Logf("only %d reloads happened during the run", n)
	}
	wantA, wantB := []string{"rA1/A1", "rA2/A2"}, []string{"rB1/B1", "rB2/B2"}
	for _, got := range results {
		if !slices.Equal(got, wantA) && !slices.Equal(got, wantB) {
			t.Errorf("an event fired %q: a mix of configurations", got)
		}
	}
	jobs := jobsOf(t, e.Store(), store.KindCallout)
	if len(jobs) != workers*perWorker*2 || len(ids) != len(jobs) {
		t.Fatalf("stored %d jobs, returned %d IDs, want %d", len(jobs), len(ids), workers*perWorker*2)
	}
	byID := make(map[string]store.Job, len(jobs))
	for _, j := range jobs {
		byID[j.ID] = j
	}
	for _, id := range ids {
		j, ok := byID[id]
		if !ok {
			t.Fatalf("delivery %s returned by Handle is not in the outbox", id)
		}
		if j.Rule[1:] != j.Callout { // rA1 fires A1, rB2 fires B2
			t.Errorf("job %s: rule %q fired callout %q", id, j.Rule, j.Callout)
		}
	}
	if e.Config() != cfgA && e.Config() != cfgB {
		t.Error("Config() is neither configuration")
	}
}

// TestReloadInvalid: a configuration the engine cannot run is refused and the old
// one stays in force.
func TestReloadInvalid(t *testing.T) {
	cfgA := parseConfig(t, "http://127.0.0.1:9", oneCallout)
	e := openEngine(t, Options{Config: cfgA, Store: sqliteDSN(t), NoDispatch: true})
	bad := parseConfig(t, "http://127.0.0.1:9", `
smtp: {host: 127.0.0.1, port: 25, from: rf@example.com, username: rf, password: "enc:v1:AAAA"}
`)
	err := e.Reload(bad)
	const want = "engine: smtp password: encrypted secret: too short"
	if err == nil || err.Error() != want {
		t.Fatalf("Reload error = %v, want %q", err, want)
	}
	if e.Config() != cfgA {
		t.Error("a failed Reload replaced the configuration")
	}
}

// TestHandleAfterClose: Handle after Close fails with ErrClosed and stores nothing.
func TestHandleAfterClose(t *testing.T) {
	e := openEngine(t, Options{Config: parseConfig(t, "http://127.0.0.1:9", oneCallout), Store: sqliteDSN(t), NoDispatch: true})
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, err := e.Handle(context.Background(), completeEvent(1))
	if !errors.Is(err, ErrClosed) {
		t.Errorf("Handle after Close = %v, want ErrClosed", err)
	}
}

// TestOpenErrors: Open refuses what it cannot run, with a clear error.
func TestOpenErrors(t *testing.T) {
	cfg := parseConfig(t, "http://127.0.0.1:9", oneCallout)
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"no config", Options{}, "engine: open: no configuration"},
		{"bad DSN", Options{Config: cfg, Store: "mysql://x"}, `engine: store: dsn "mysql://x": unsupported scheme "mysql" (want sqlite:PATH, sqlite:///ABSPATH, file:PATH, postgres://… or postgresql://…)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Key = testKey(t)
			e, err := Open(context.Background(), tt.opts)
			if err == nil {
				e.Close()
				t.Fatal("Open succeeded")
			}
			if err.Error() != tt.wantErr {
				t.Errorf("err = %q, want %q", err, tt.wantErr)
			}
		})
	}
}
