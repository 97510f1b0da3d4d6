package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/engine/store/storetest"
)

// productCall is one request the external product received.
type productCall struct {
	Method, Path, Body, APIKey, User, Password string
}

// product is an external product on loopback: POST /webhooks registers (answering
// with the status the script says, then 201 and {"data":{"webhook":{"id":…}}}),
// DELETE /webhooks/{id} deregisters.
type product struct {
	srv *httptest.Server

	mu       sync.Mutex
	calls    []productCall
	failures int // how many register calls answer 500 before one succeeds
	always   int // a status every register call answers with, when not 0
	// hold, when set, makes every call wait until it is closed or the caller
	// goes away (then the call is not recorded).
	hold chan struct{}
	held chan struct{} // receives a value when a call starts waiting
}

func newProduct(t *testing.T) *product {
	p := &product{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		user, pass, _ := r.BasicAuth()
		p.mu.Lock()
		hold := p.hold
		p.mu.Unlock()
		if hold != nil {
			select {
			case p.held <- struct{}{}:
			default:
			}
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		p.mu.Lock()
		p.calls = append(p.calls, productCall{Method: r.Method, Path: r.URL.Path, Body: string(b), APIKey: r.Header.Get("X-Api-Key"), User: user, Password: pass})
		n := len(p.calls)
		status := p.always
		if status == 0 && r.Method == http.MethodPost && p.failures > 0 {
			p.failures--
			status = http.StatusInternalServerError
		}
		p.mu.Unlock()
		switch {
		case status != 0:
			w.WriteHeader(status)
			fmt.Fprint(w, `{"error":"product down"}`)
		case r.Method == http.MethodPost:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"data":{"webhook":{"id":"wh-%d","echo":%s}}}`, n, b)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *product) received() []productCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]productCall(nil), p.calls...)
}

// registerConfig is a configuration whose target jira registers at p.
func registerConfig(t *testing.T, p *product, extra string) string {
	t.Helper()
	src := fmt.Sprintf(`version: 1
%s
target_urls:
  - name: jira
    iparams: {project: OPS}
    register:
      url: %s/webhooks
      headers: {X-Api-Key: {value: sekrit-key-123, secret: true}}
      username: svc
      password: pw-456
      body: '{"url": {{json .TargetURL}}, "project": {{json .Iparams.project}}, "installation": {{json .InstallationID}}}'
      id_path: data.webhook.id
      retry: {interval: 1s, max: 2}
      timeout: 2s
    deregister:
      method: DELETE
      url: '%s/webhooks/{{pathescape .RegistrationID}}'
      headers: {X-Api-Key: {value: sekrit-key-123, secret: true}}
      retry: {interval: 1s, max: 1}
      timeout: 2s
`, extra, p.srv.URL, p.srv.URL)
	path := filepath.Join(t.TempDir(), "ruleflow.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// installation returns GET /v1/targets/{id}.
func installation(t *testing.T, ts *testServer, id string) targetJSON {
	t.Helper()
	r := ts.admin("GET", "/v1/targets/"+id, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET target %s: %d %s", id, r.status, r.body)
	}
	var tj targetJSON
	decode(t, r, &tj)
	return tj
}

// waitInstallation polls GET /v1/targets/{id} until ok says so, or fails after 20 s.
func waitInstallation(t *testing.T, ts *testServer, id string, ok func(targetJSON) bool) targetJSON {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		tj := installation(t, ts, id)
		if ok(tj) {
			return tj
		}
		if time.Now().After(deadline) {
			jobs, _ := ts.eng.Store().List(context.Background(), store.Filter{EntryID: id})
			t.Logf("jobs: %+v", jobs)
			t.Fatalf("installation %s never reached the expected state: registration %+v, deregistration %+v", id, tj.Registration, tj.Deregistration)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func registered(tj targetJSON) bool {
	return tj.Registration != nil && tj.Registration.Status != "pending"
}

func deregistered(tj targetJSON) bool {
	return tj.Deregistration != nil && tj.Deregistration.Status != "pending"
}

// createInstallation posts a new installation of jira.
func createInstallation(t *testing.T, ts *testServer, body string) targetJSON {
	t.Helper()
	r := ts.admin("POST", "/v1/targets", body)
	if r.status != http.StatusCreated {
		t.Fatalf("POST /v1/targets: %d %s", r.status, r.body)
	}
	var tj targetJSON
	decode(t, r, &tj)
	return tj
}

// bootstrapped is the installation Bootstrap created for jira.
func bootstrapped(t *testing.T, ts *testServer) string { return activeTarget(t, ts, "jira") }

func testRegisterRoundTrip(t *testing.T, dsn string) {
	p := newProduct(t)
	ts := newTestServer(t, serverConfig{dsn: dsn, configFile: registerConfig(t, p, ""), dispatch: true})
	boot := bootstrapped(t, ts)
	waitInstallation(t, ts, boot, registered)

	tj := createInstallation(t, ts, `{"name":"jira","iparams":{"project":"SUP"}}`)
	if tj.Registration == nil || tj.Registration.Status != "pending" || !strings.HasPrefix(tj.Registration.Job, "dlv_") {
		t.Fatalf("created installation: registration %+v, want pending with its job", tj.Registration)
	}
	got := waitInstallation(t, ts, tj.ID, registered)
	calls := p.received()
	if len(calls) != 2 {
		t.Fatalf("product received %d calls, want 2 registrations: %+v", len(calls), calls)
	}
	wantBody := fmt.Sprintf(`{"url": %q, "project": "SUP", "installation": %q}`, ts.srv.URL+tj.URL, tj.ID)
	if diff := cmp.Diff(productCall{Method: "POST", Path: "/webhooks", Body: wantBody, APIKey: "sekrit-key-123", User: "svc", Password: "pw-456"}, calls[1]); diff != "" {
		t.Errorf("register call (-want +got):\n%s", diff)
	}
	wantReg := &registrationJSON{Status: "registered", ID: "wh-2", Job: tj.Registration.Job}
	if diff := cmp.Diff(wantReg, got.Registration); diff != "" {
		t.Errorf("registration (-want +got):\n%s", diff)
	}
	// The token is a credential: no API answer but the creation's shows it.
	token := strings.TrimPrefix(tj.URL, "/hooks/")
	for _, path := range []string{"/v1/targets", "/v1/targets/" + tj.ID, "/v1/deliveries/" + tj.Registration.Job, "/v1/deliveries?limit=1000"} {
		r := ts.admin("GET", path, nil)
		if r.status != http.StatusOK || strings.Contains(r.body, token) || strings.Contains(r.body, "sekrit-key-123") || strings.Contains(r.body, "pw-456") {
			t.Errorf("GET %s: %d, shows a secret or failed:\n%s", path, r.status, r.body)
		}
	}
	if strings.Contains(ts.logs.String(), token) || strings.Contains(ts.logs.String(), "sekrit-key-123") {
		t.Errorf("the logs show a secret:\n%s", ts.logs.String())
	}

	// Revoking deregisters with the ID the product returned.
	if r := ts.admin("DELETE", "/v1/targets/"+tj.ID, nil); r.status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	got = waitInstallation(t, ts, tj.ID, deregistered)
	if got.Deregistration.Status != "deregistered" || got.RevokedAt == nil {
		t.Errorf("after revoke: %+v", got.Deregistration)
	}
	calls = p.received()
	if len(calls) != 3 || calls[2].Method != "DELETE" || calls[2].Path != "/webhooks/wh-2" || calls[2].APIKey != "sekrit-key-123" || calls[2].Body != "" {
		t.Errorf("deregister call: %+v", calls[len(calls)-1])
	}
	// Both calls are deliveries: listed with their event kind and installation.
	jobs, err := ts.eng.Store().List(context.Background(), store.Filter{EntryID: tj.ID})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, j := range jobs {
		kinds = append(kinds, fmt.Sprintf("%s %s %s %s", j.Kind, j.EventKind, j.Callout, j.Status))
	}
	if diff := cmp.Diff([]string{"callout register target:jira delivered", "callout deregister target:jira delivered"}, kinds); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
}

func TestRegisterRoundTripSQLite(t *testing.T) { testRegisterRoundTrip(t, storetest.SQLiteDSN(t)) }
func TestRegisterRoundTripPostgres(t *testing.T) {
	testRegisterRoundTrip(t, storetest.PostgresDSN(t, "register_"))
}

func testRegisterRetries(t *testing.T, dsn string) {
	p := newProduct(t)
	ts := newTestServer(t, serverConfig{dsn: dsn, configFile: registerConfig(t, p, ""), dispatch: true})
	waitInstallation(t, ts, bootstrapped(t, ts), registered)
	p.mu.Lock()
	p.failures = 1 // the new installation's first attempt
	p.mu.Unlock()
	tj := createInstallation(t, ts, `{"name":"jira"}`)
	got := waitInstallation(t, ts, tj.ID, registered)
	if got.Registration.Status != "registered" || got.Registration.ID == "" {
		t.Fatalf("registration %+v", got.Registration)
	}
	r := ts.admin("GET", "/v1/deliveries/"+tj.Registration.Job, nil)
	var d struct {
		Status   string `json:"status"`
		Attempts []struct {
			StatusCode int    `json:"status_code"`
			Error      string `json:"error"`
		} `json:"attempt_log"`
	}
	decode(t, r, &d)
	if d.Status != "delivered" || len(d.Attempts) != 2 || d.Attempts[0].StatusCode != 500 || d.Attempts[1].StatusCode != 201 {
		t.Errorf("register delivery: %s", r.body)
	}
}

func TestRegisterRetriesSQLite(t *testing.T) { testRegisterRetries(t, storetest.SQLiteDSN(t)) }
func TestRegisterRetriesPostgres(t *testing.T) {
	testRegisterRetries(t, storetest.PostgresDSN(t, "register_"))
}

func testRegisterFails(t *testing.T, dsn string) {
	p := newProduct(t)
	p.always = http.StatusInternalServerError
	ts := newTestServer(t, serverConfig{dsn: dsn, configFile: registerConfig(t, p, ""), dispatch: true})
	id := bootstrapped(t, ts)
	got := waitInstallation(t, ts, id, registered)
	want := &registrationJSON{Status: "failed", Error: `HTTP 500: {"error":"product down"}`, Job: got.Registration.Job}
	if diff := cmp.Diff(want, got.Registration); diff != "" {
		t.Errorf("registration after the last attempt (-want +got):\n%s", diff)
	}
	if n := len(p.received()); n != 3 {
		t.Errorf("register attempts: %d, want 3 (retry max 2)", n)
	}
	// Nothing was registered, so nothing is deregistered: skipped, with the reason.
	if r := ts.admin("DELETE", "/v1/targets/"+id, nil); r.status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	got = installation(t, ts, id)
	if diff := cmp.Diff(&deregistrationJSON{Status: "skipped", Error: store.SkippedDeregistration}, got.Deregistration); diff != "" {
		t.Errorf("deregistration (-want +got):\n%s", diff)
	}
	jobs, err := ts.eng.Store().List(context.Background(), store.Filter{EntryID: id})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 {
		t.Errorf("jobs of the installation: %d, want only the failed register call", len(jobs))
	}
	if !strings.Contains(ts.logs.String(), "deregister call skipped") {
		t.Errorf("the skip is not logged:\n%s", ts.logs.String())
	}
}

func TestRegisterFailsSQLite(t *testing.T) { testRegisterFails(t, storetest.SQLiteDSN(t)) }
func TestRegisterFailsPostgres(t *testing.T) {
	testRegisterFails(t, storetest.PostgresDSN(t, "register_"))
}

// TestRevokeBeforeRegistered revokes an installation whose register call has not
// succeeded yet: the deregister call waits, and runs with the ID once the register
// call's retry gets it.
func TestRevokeBeforeRegistered(t *testing.T) {
	p := newProduct(t)
	p.failures = 1
	ts := newTestServer(t, serverConfig{configFile: registerConfig(t, p, ""), dispatch: true})
	id := bootstrapped(t, ts)
	deadline := time.Now().Add(10 * time.Second)
	for len(p.received()) == 0 { // the first attempt answered 500; the retry is 1 s away
		if time.Now().After(deadline) {
			t.Fatal("no register attempt")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r := ts.admin("DELETE", "/v1/targets/"+id, nil); r.status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	tj := installation(t, ts, id)
	if tj.Registration.Status != "pending" || tj.Deregistration == nil || tj.Deregistration.Status != "pending" {
		t.Fatalf("revoked while registering: %+v %+v", tj.Registration, tj.Deregistration)
	}
	job, _, err := ts.eng.Store().Get(context.Background(), tj.Deregistration.Job)
	if err != nil {
		t.Fatal(err)
	}
	if time.Until(job.NextAt) < 24*time.Hour {
		t.Errorf("the waiting deregister call is due at %s; it should wait for the register call", job.NextAt)
	}
	tj = waitInstallation(t, ts, id, deregistered)
	if tj.Registration.Status != "registered" || tj.Deregistration.Status != "deregistered" {
		t.Errorf("after the register retry: %+v %+v", tj.Registration, tj.Deregistration)
	}
	calls := p.received()
	if len(calls) != 3 || calls[2].Path != "/webhooks/"+tj.Registration.ID {
		t.Errorf("calls: %+v", calls)
	}
}

// TestRegisterSurvivesRestart: the register job is stored with the installation,
// so an engine that stops right after POST /v1/targets answered (here: one that
// never dispatches) leaves the call to the next engine on the store.
func TestRegisterSurvivesRestart(t *testing.T) {
	for _, tc := range []struct{ name, dsn string }{{"SQLite", ""}, {"Postgres", "postgres"}} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := storetest.SQLiteDSN(t)
			if tc.dsn != "" {
				dsn = storetest.PostgresDSN(t, "register_")
			}
			p := newProduct(t)
			cfg := registerConfig(t, p, "")
			first := newTestServer(t, serverConfig{dsn: dsn, configFile: cfg})
			tj := createInstallation(t, first, `{"name":"jira"}`)
			base := first.srv.URL
			first.close() // before any dispatch
			if n := len(p.received()); n != 0 {
				t.Fatalf("the first engine sent %d calls", n)
			}
			second := newTestServer(t, serverConfig{dsn: dsn, configFile: cfg, dispatch: true})
			got := waitInstallation(t, second, tj.ID, registered)
			if got.Registration.Status != "registered" {
				t.Fatalf("after restart: %+v", got.Registration)
			}
			var bodies []string
			for _, c := range p.received() {
				bodies = append(bodies, c.Body)
			}
			// The token was only in memory and in the sealed registration: the
			// second engine sends the installation's URL all the same.
			if !strings.Contains(strings.Join(bodies, "\n"), base+tj.URL) {
				t.Errorf("register bodies %q lack %s", bodies, tj.URL)
			}
		})
	}
}

func TestRegisterBadInstallation(t *testing.T) {
	p := newProduct(t)
	src := strings.Replace(mustRead(t, registerConfig(t, p, "")), "{{json .Iparams.project}}", "{{.Iparams.project.name}}", 1)
	src = strings.Replace(src, "iparams: {project: OPS}", "iparams: {project: {name: OPS}}", 1)
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, serverConfig{configFile: path})
	before, err := ts.eng.Store().ListTargets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := ts.admin("POST", "/v1/targets", `{"name":"jira","iparams":{"project":"SUP"}}`)
	want := errorJSON(`target "jira": register body: executing "body" at <.Iparams.project.name>: can't evaluate field name in type interface {}`)
	if r.status != http.StatusBadRequest || r.body != want {
		t.Errorf("POST with iparams the body cannot use: %d %s, want 400 %s", r.status, r.body, want)
	}
	after, err := ts.eng.Store().ListTargets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("a refused installation was stored: %d targets, had %d", len(after), len(before))
	}
}

// TestRegisterEgressGuard: the calls go through the egress guard — strict mode
// refuses the loopback product.
func TestRegisterEgressGuard(t *testing.T) {
	p := newProduct(t)
	ts := newTestServer(t, serverConfig{configFile: registerConfig(t, p, "egress: {strict: true}"), dispatch: true})
	got := waitInstallation(t, ts, bootstrapped(t, ts), registered)
	if got.Registration.Status != "failed" || !strings.Contains(got.Registration.Error, "egress") {
		t.Errorf("registration through a strict guard: %+v", got.Registration)
	}
	if n := len(p.received()); n != 0 {
		t.Errorf("the product received %d calls", n)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The kill test runs the API in a child process (this test binary re-executed with
// -test.run=^TestRegisterKillChild$) and kills it with SIGKILL while the register
// calls are in flight; these variables tell the child what to do.
const (
	killEnvChild  = "RULEFLOW_REGISTER_CHILD"  // "1" in the child
	killEnvDSN    = "RULEFLOW_REGISTER_DSN"    // the store
	killEnvConfig = "RULEFLOW_REGISTER_CONFIG" // the configuration file
)

// TestRegisterKillChild is the child of TestRegisterKilled; run on its own it skips.
// It serves the API with a dispatching engine whose leases end 1 s after an
// attempt's limit, prints "LISTEN <base URL>" and serves until it is killed.
func TestRegisterKillChild(t *testing.T) {
	if os.Getenv(killEnvChild) != "1" {
		t.Skip("helper process of TestRegisterKilled: runs only when re-executed by it")
	}
	eng, err := engine.Open(context.Background(), engine.Options{
		Config: loadConfig(t, os.Getenv(killEnvConfig)), Store: os.Getenv(killEnvDSN), Key: testKey(t),
		Lease: time.Second, NodeID: "register-child", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{Engine: eng, AdminToken: adminToken})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	if err := h.Bootstrap(context.Background(), io.Discard, srv.URL); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("LISTEN %s\n", srv.URL)
	io.Copy(io.Discard, os.Stdin) // until the parent kills us or closes the pipe
}

// TestRegisterKilled: POST /v1/targets answers, the engine is killed (SIGKILL)
// while its register call is in flight, and the next engine on the store makes the
// call once the dead node's lease has expired.
func TestRegisterKilled(t *testing.T) {
	for _, tc := range []struct{ name, driver string }{{"SQLite", "sqlite"}, {"Postgres", "postgres"}} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := storetest.SQLiteDSN(t)
			if tc.driver == "postgres" {
				dsn = storetest.PostgresDSN(t, "register_")
			}
			p := newProduct(t)
			p.hold, p.held = make(chan struct{}), make(chan struct{}, 1)
			cfg := registerConfig(t, p, "")
			cmd := exec.Command(os.Args[0], "-test.run=^TestRegisterKillChild$", "-test.v")
			cmd.Env = append(os.Environ(), killEnvChild+"=1", killEnvDSN+"="+dsn, killEnvConfig+"="+cfg)
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			killed := false
			t.Cleanup(func() {
				stdin.Close()
				if !killed {
					cmd.Process.Kill()
				}
				cmd.Wait()
			})
			base := ""
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if u, ok := strings.CutPrefix(sc.Text(), "LISTEN "); ok {
					base = u
					break
				}
			}
			if base == "" {
				t.Fatal("the child never listened")
			}
			go io.Copy(io.Discard, stdout)
			req, _ := http.NewRequest("POST", base+"/v1/targets", strings.NewReader(`{"name":"jira","iparams":{"project":"K9"}}`))
			req.Header.Set("Authorization", "Bearer "+adminToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var tj targetJSON
			err = json.NewDecoder(resp.Body).Decode(&tj)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusCreated {
				t.Fatalf("POST /v1/targets: %d %v", resp.StatusCode, err)
			}
			select { // a register call is in flight, held by the product
			case <-p.held:
			case <-time.After(10 * time.Second):
				t.Fatal("no register call reached the product")
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
			cmd.Wait()
			p.mu.Lock()
			close(p.hold)
			p.hold = nil
			p.mu.Unlock()

			ts := newTestServer(t, serverConfig{dsn: dsn, configFile: cfg, dispatch: true})
			got := waitInstallation(t, ts, tj.ID, registered)
			if got.Registration.Status != "registered" || got.Registration.ID == "" {
				t.Fatalf("after the kill: %+v", got.Registration)
			}
			found := false
			for _, c := range p.received() {
				found = found || strings.Contains(c.Body, `"url": "`+base+tj.URL+`"`) && strings.Contains(c.Body, `"K9"`)
			}
			if !found {
				t.Errorf("no register call with the installation's URL reached the product: %+v", p.received())
			}
		})
	}
}

// TestRevokeBeforeFailedRegistration: revoked while the register call retries, and
// the register call then gives up: the waiting deregister call is skipped.
func TestRevokeBeforeFailedRegistration(t *testing.T) {
	p := newProduct(t)
	p.always = http.StatusInternalServerError
	ts := newTestServer(t, serverConfig{configFile: registerConfig(t, p, ""), dispatch: true})
	id := bootstrapped(t, ts)
	if r := ts.admin("DELETE", "/v1/targets/"+id, nil); r.status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	tj := waitInstallation(t, ts, id, deregistered)
	if tj.Registration.Status != "failed" {
		t.Errorf("registration %+v", tj.Registration)
	}
	if diff := cmp.Diff(&deregistrationJSON{Status: "skipped", Error: store.SkippedDeregistration, Job: tj.Deregistration.Job}, tj.Deregistration); diff != "" {
		t.Errorf("deregistration (-want +got):\n%s", diff)
	}
	for _, c := range p.received() {
		if c.Method == http.MethodDelete {
			t.Errorf("a deregister call was made: %+v", c)
		}
	}
}

// TestRegisterRemovedFromConfig: a register call queued before a reload that
// removed it fails unsent, saying why.
func TestRegisterRemovedFromConfig(t *testing.T) {
	p := newProduct(t)
	first := newTestServer(t, serverConfig{configFile: registerConfig(t, p, "")}) // no dispatch: the call stays queued
	id := bootstrapped(t, first)
	dsn := first.dsn
	first.close()
	path := filepath.Join(t.TempDir(), "plain.yaml")
	if err := os.WriteFile(path, []byte("version: 1\ntarget_urls:\n  - name: jira\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, serverConfig{dsn: dsn, configFile: path, dispatch: true})
	tj := waitInstallation(t, ts, id, registered)
	want := &registrationJSON{Status: "failed", Error: `target URL "jira" no longer declares register`, Job: tj.Registration.Job}
	if diff := cmp.Diff(want, tj.Registration); diff != "" {
		t.Errorf("registration (-want +got):\n%s", diff)
	}
	if n := len(p.received()); n != 0 {
		t.Errorf("the product received %d calls", n)
	}
}
