package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer is a goroutine-safe output sink.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls cond every 10 ms for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const serveToken = "serve-test-admin-token"

// startServe runs `ruleflow serve` in process on 127.0.0.1:0 and returns the
// running server, its output, and a channel with the command's result.
func startServe(t *testing.T, args ...string) (*server, *lockedBuffer, *lockedBuffer, <-chan error) {
	t.Helper()
	started := make(chan *server, 1)
	cmd := newServeCommandWith(serveHooks{started: func(s *server) { started <- s }})
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	cmd.SetArgs(args)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(context.Background()) }()
	select {
	case s := <-started:
		return s, stdout, stderr, done
	case err := <-done:
		t.Fatalf("serve ended before it started: %v\nstderr:\n%s", err, stderr)
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not start within 20s\nstderr:\n%s", stderr)
	}
	return nil, nil, nil, nil
}

func get(t *testing.T, url string, auth bool) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if auth {
		req.Header.Set("Authorization", "Bearer "+serveToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeCommand(t *testing.T) {
	t.Setenv("RULEFLOW_ADMIN_TOKEN", serveToken)
	dir := t.TempDir()
	demo, err := os.ReadFile(filepath.Join("..", "..", "testdata", "demo", "ruleflow.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "ruleflow.yaml")
	if err := os.WriteFile(cfgPath, demo, 0o600); err != nil {
		t.Fatal(err)
	}
	s, stdout, stderr, done := startServe(t, "--config", cfgPath, "--store", "sqlite:"+filepath.Join(dir, "rf.db"), "--listen", "127.0.0.1:0", "--shutdown-timeout", "5s")

	out := stdout.String()
	for _, want := range []string{
		`ruleflow: callback function "close_ticket" published: POST ` + s.base + `/callbacks/close_ticket  X-Auth-Token: `,
		`ruleflow: target "jira" created: POST ` + s.base + `/hooks/`,
		`ruleflow: serving on ` + s.base,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if code, body := get(t, s.base+"/healthz", false); code != 200 || body != `{"status":"ok"}`+"\n" {
		t.Errorf("healthz: %d %s", code, body)
	}
	if code, _ := get(t, s.base+"/v1/callback-functions", false); code != 401 {
		t.Errorf("admin endpoint without a token: %d, want 401", code)
	}
	if code, body := get(t, s.base+"/metrics", false); code != 200 || !strings.Contains(body, "go_goroutines") || !strings.Contains(body, "ruleflow_queue_depth") {
		t.Errorf("metrics: %d, want Go and queue metrics", code)
	}

	// Reload through the function SIGHUP calls: a new callback function appears and
	// gets its token.
	more := strings.Replace(string(demo), "callback_functions:\n", "callback_functions:\n  - api_name: reopen_ticket\n    published: true\n    parameters: {id: int}\n", 1)
	if err := os.WriteFile(cfgPath, []byte(more), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.reload(context.Background()); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if !strings.Contains(stdout.String(), `callback function "reopen_ticket" published`) {
		t.Errorf("reload did not publish reopen_ticket:\n%s", stdout)
	}
	if _, body := get(t, s.base+"/v1/callback-functions", true); !strings.Contains(body, `"api_name":"reopen_ticket"`) {
		t.Errorf("callback functions after reload: %s", body)
	}

	// A real SIGHUP with an invalid file: the error is logged, the old config stays.
	if err := os.WriteFile(cfgPath, []byte("version: 1\nrules: [{name: x, form: Nope, events: [create], callouts: []}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reload error in the log", func() bool {
		return strings.Contains(stderr.String(), "serve: reload failed; keeping the previous configuration")
	})
	if _, body := get(t, s.base+"/v1/callback-functions", true); !strings.Contains(body, `"api_name":"reopen_ticket"`) {
		t.Errorf("configuration lost after a failed reload: %s", body)
	}

	// SIGTERM: graceful shutdown, exit status 0 (a nil error).
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v after SIGTERM, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop within 15s of SIGTERM")
	}
	for _, want := range []string{`msg="serve: shutting down" signal=terminated`, `msg="serve: stopped"`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr.String(), serveToken) {
		t.Errorf("the admin token appears in the log")
	}
	if _, err := http.Get(s.base + "/healthz"); err == nil {
		t.Error("server still answers after shutdown")
	}

	// The tokens were printed once: a second start on the same store prints none.
	if err := os.WriteFile(cfgPath, more2(demo), 0o600); err != nil {
		t.Fatal(err)
	}
	s2, stdout2, _, done2 := startServe(t, "--config", cfgPath, "--store", "sqlite:"+filepath.Join(dir, "rf.db"), "--listen", "127.0.0.1:0")
	if strings.Contains(stdout2.String(), "published") || strings.Contains(stdout2.String(), "created") {
		t.Errorf("second start printed tokens again:\n%s", stdout2)
	}
	if code, _ := get(t, s2.base+"/healthz", false); code != 200 {
		t.Errorf("second start healthz: %d", code)
	}
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	if err := <-done2; err != nil {
		t.Errorf("second serve after SIGINT: %v", err)
	}
}

// more2 is the demo configuration with the reopen_ticket function of the first run.
func more2(demo []byte) []byte {
	return []byte(strings.Replace(string(demo), "callback_functions:\n", "callback_functions:\n  - api_name: reopen_ticket\n    published: true\n    parameters: {id: int}\n", 1))
}

func TestServeErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join("..", "..", "testdata", "demo", "ruleflow.yaml")
	tests := []struct {
		name  string
		token string
		args  []string
		want  string
	}{
		{"no admin token", "", []string{"--config", cfg}, "RULEFLOW_ADMIN_TOKEN is not set: set it to the admin token, or pass --insecure-no-auth to run the admin API without authentication"},
		{"no config flag", serveToken, []string{}, `required flag(s) "config" not set`},
		{"bad log format", serveToken, []string{"--config", cfg, "--log-format", "xml"}, `--log-format "xml": want text or json`},
		{"missing config file", serveToken, []string{"--config", filepath.Join(dir, "nope.yaml"), "--store", "sqlite:" + filepath.Join(dir, "a.db")}, "open " + filepath.Join(dir, "nope.yaml") + ": no such file or directory"},
		{"bad store", serveToken, []string{"--config", cfg, "--store", "mysql://x"}, `engine: store: dsn "mysql://x": unsupported scheme "mysql" (want sqlite:PATH, sqlite:///ABSPATH, file:PATH, postgres://… or postgresql://…)`},
		{"insecure on every interface", "", []string{"--config", cfg, "--insecure-no-auth", "--listen", ":8080"}, `--insecure-no-auth needs a loopback --listen address (localhost, 127.0.0.1 or [::1]), not ":8080" (every interface): to serve other hosts, set RULEFLOW_ADMIN_TOKEN and drop --insecure-no-auth`},
		{"insecure on a LAN address", "", []string{"--config", cfg, "--insecure-no-auth", "--listen", "192.168.1.5:8080"}, `--insecure-no-auth needs a loopback --listen address (localhost, 127.0.0.1 or [::1]), not "192.168.1.5:8080" (192.168.1.5): to serve other hosts, set RULEFLOW_ADMIN_TOKEN and drop --insecure-no-auth`},
		{"insecure with a token still loopback only", serveToken, []string{"--config", cfg, "--insecure-no-auth", "--listen", "0.0.0.0:8080"}, `--insecure-no-auth needs a loopback --listen address (localhost, 127.0.0.1 or [::1]), not "0.0.0.0:8080" (0.0.0.0): to serve other hosts, set RULEFLOW_ADMIN_TOKEN and drop --insecure-no-auth`},
		{"bad listen address", serveToken, []string{"--config", cfg, "--store", "sqlite:" + filepath.Join(dir, "b.db"), "--listen", "127.0.0.1:99999"}, "listen tcp: address 99999: invalid port"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("RULEFLOW_ADMIN_TOKEN", tc.token)
			cmd := newServeCommand()
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			cmd.SetArgs(tc.args)
			err := cmd.ExecuteContext(context.Background())
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v\nwant  %s", err, tc.want)
			}
		})
	}
}
