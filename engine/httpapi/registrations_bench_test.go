package httpapi

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/ruleflow/ruleflow/engine"
)

// BenchmarkCreateTarget is POST /v1/targets on a SQLite file, without a
// dispatcher: plain stores the installation; register also renders the register
// call, seals the installation's URL and stores the registration and the register
// job in the same transaction.
func BenchmarkCreateTarget(b *testing.B) {
	src := `version: 1
target_urls:
  - name: plain
  - name: jira
    register:
      url: http://127.0.0.1:9/webhooks
      headers: {X-Api-Key: {value: k, secret: true}}
      body: '{"url": {{json .TargetURL}}, "project": {{json .Iparams.project}}}'
      id_path: data.webhook.id
    deregister: {method: DELETE, url: 'http://127.0.0.1:9/webhooks/{{pathescape .RegistrationID}}'}
`
	path := filepath.Join(b.TempDir(), "ruleflow.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		b.Fatal(err)
	}
	eng, err := engine.Open(context.Background(), engine.Options{
		Config: loadConfig(b, path), Store: "sqlite:" + filepath.Join(b.TempDir(), "rf.db"), Key: testKey(b),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), NoDispatch: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	h, err := New(Options{Engine: eng, AdminToken: adminToken, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"plain", "jira"} {
		b.Run(map[string]string{"plain": "plain", "jira": "register"}[name], func(b *testing.B) {
			body := `{"name":"` + name + `","iparams":{"project":"OPS"}}`
			b.ReportAllocs()
			for b.Loop() {
				serve(b, h, "POST", "/v1/targets", body, "Authorization", "Bearer "+adminToken, "Content-Type", "application/json")
			}
		})
	}
}
