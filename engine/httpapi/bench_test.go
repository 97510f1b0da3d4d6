package httpapi

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/rules"
)

func BenchmarkXMLToJSON(b *testing.B) {
	doc := []byte(`<?xml version="1.0"?><issue id="7" type="bug"><key>OPS-1</key><fields><summary>Router down</summary>` +
		strings.Repeat(`<comment author="jsmith">Looking into it</comment>`, 20) + `</fields></issue>`)
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := XMLToJSON(doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeArguments(b *testing.B) {
	params := map[string]string{"name": "string", "id": "int"}
	data := []byte(`{"name":"tom","id":123}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rules.DecodeArguments(params, data); err != nil {
			b.Fatal(err)
		}
	}
}

// benchHandler is the real handler over an engine on a SQLite file, without a
// dispatcher, called in process (no network).
func benchHandler(b *testing.B) *Handler {
	b.Helper()
	eng, err := engine.Open(context.Background(), engine.Options{
		Config: loadConfig(b, ""), Store: "sqlite:" + filepath.Join(b.TempDir(), "rf.db"), Key: testKey(b),
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
	return h
}

func serve(b *testing.B, h http.Handler, method, path, body string, headers ...string) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code >= 300 {
		b.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
	}
}

// BenchmarkPostEventFires is POST /v1/events of an event that fires one callout:
// decode, match, render and a durable SQLite enqueue.
func BenchmarkPostEventFires(b *testing.B) {
	h := benchHandler(b)
	b.ReportAllocs()
	for b.Loop() {
		serve(b, h, "POST", "/v1/events", criticalCreate, "Authorization", "Bearer "+adminToken, "Content-Type", "application/json")
	}
}

// BenchmarkPostEventNoMatch is POST /v1/events of an event no rule matches.
func BenchmarkPostEventNoMatch(b *testing.B) {
	h := benchHandler(b)
	b.ReportAllocs()
	for b.Loop() {
		serve(b, h, "POST", "/v1/events", lowCreate, "Authorization", "Bearer "+adminToken, "Content-Type", "application/json")
	}
}

// BenchmarkHookXML is POST /hooks/{token} with an XML body for a target whose
// rules fire nothing: token lookup, rate limit, XML conversion, flattening, match.
func BenchmarkHookXML(b *testing.B) {
	h := benchHandler(b)
	h.opts.HookRate = 1 << 30
	h.limiter = newRateLimiter(h.opts.HookRate, 60e9)
	var out bytes.Buffer
	if err := h.Bootstrap(context.Background(), &out, ""); err != nil {
		b.Fatal(err)
	}
	var path string
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, `target "quiet"`) {
			path = line[strings.Index(line, "/hooks/"):]
		}
	}
	body := `<issue id="7"><key>OPS-1</key><fields><summary>Router down</summary></fields></issue>`
	b.ReportAllocs()
	for b.Loop() {
		serve(b, h, "POST", path, body, "Content-Type", "application/xml")
	}
}
