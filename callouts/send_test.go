package callouts

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ruleflow/ruleflow/rules"
)

// seen is what a test server recorded about one request.
type seen struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
	User, Pass          string
	HasAuth             bool
}

// recorder is an httptest server that records every request and answers with
// handler (200 "ok" when nil).
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newRecorder(t testing.TB, handler http.HandlerFunc) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u, p, ok := r.BasicAuth()
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body, u, p, ok})
		rec.mu.Unlock()
		if handler == nil {
			io.WriteString(w, "ok")
			return
		}
		handler(w, r)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) requests() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]seen(nil), r.reqs...)
}

func TestSendHeadersAuthIdempotency(t *testing.T) {
	srv := newRecorder(t, nil)
	cfg := testConfig(t)
	c := soapCallout()
	c.URL = srv.URL + "/ws/TicketService.asmx"
	c.Headers = map[string]string{"X-Tenant": "acme"}
	req, err := Render(cfg, c, seedEvent(rules.KindUpdate))
	if err != nil {
		t.Fatal(err)
	}
	s := &Sender{UserAgent: "ruleflow/1.2.3"}
	cred := Credentials{Username: "svc", Password: "s3cr3t-Pa55"}
	for range 2 {
		res := attemptOf(s.Send(context.Background(), req, "dlv-0001", time.Second, cred))
		if !res.Delivered || res.StatusCode != 200 || res.Err != "" || string(res.Response) != "ok" {
			t.Fatalf("Send = %+v", res)
		}
		if res.Duration <= 0 {
			t.Fatalf("Duration = %v", res.Duration)
		}
	}
	reqs := srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("server saw %d requests, want 2", len(reqs))
	}
	for _, r := range reqs {
		if r.Method != "POST" || r.Path != "/ws/TicketService.asmx" {
			t.Errorf("request line %s %s", r.Method, r.Path)
		}
		if !r.HasAuth || r.User != "svc" || r.Pass != "s3cr3t-Pa55" {
			t.Errorf("basic auth = %q %q %v", r.User, r.Pass, r.HasAuth)
		}
		want := map[string]string{
			"User-Agent":      "ruleflow/1.2.3",
			"Idempotency-Key": "dlv-0001",
			"Content-Type":    "text/xml; charset=utf-8",
			"Soapaction":      `"http://tempuri.org/CloseTicket"`,
			"X-Tenant":        "acme",
			"Content-Length":  strconv.Itoa(len(req.Body)),
		}
		for k, v := range want {
			if got := r.Header.Get(k); got != v {
				t.Errorf("header %s = %q, want %q", k, got, v)
			}
		}
		if !bytes.Equal(r.Body, req.Body) {
			t.Errorf("body differs")
		}
	}
	if reqs[0].Header.Get("Idempotency-Key") != reqs[1].Header.Get("Idempotency-Key") {
		t.Error("idempotency key changed between attempts")
	}
}

func TestSendGetNameValue(t *testing.T) {
	srv := newRecorder(t, nil)
	c := nameValueCallout("GET")
	c.URL = srv.URL + "/callout?token=abc&x=1"
	req, err := Render(testConfig(t), c, seedEvent(rules.KindCreate))
	if err != nil {
		t.Fatal(err)
	}
	res := attemptOf((&Sender{}).Send(context.Background(), req, "d1", 0, Credentials{}))
	if !res.Delivered {
		t.Fatalf("Send = %+v", res)
	}
	r := srv.requests()[0]
	if r.Method != "GET" || len(r.Body) != 0 || r.HasAuth || r.Header.Get("User-Agent") != "ruleflow" {
		t.Errorf("request = %+v", r)
	}
	if !strings.HasPrefix(r.Query, "token=abc&x=1&id=8176&number=T20211120.0001&status=New&") {
		t.Errorf("query = %q", r.Query)
	}
}

// verifySignature is an independent Standard Webhooks verifier: it recomputes the
// HMAC and compares in constant time against every v1 signature in the header.
func verifySignature(secret string, h http.Header, body []byte) error {
	var key []byte
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		k, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return err
		}
		key = k
	} else {
		key = []byte(secret)
	}
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	if id == "" || ts == "" {
		return fmt.Errorf("missing webhook-id or webhook-timestamp")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for sig := range strings.FieldsSeq(h.Get("webhook-signature")) {
		v, b64, ok := strings.Cut(sig, ",")
		if !ok || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no valid signature")
}

func TestSendSignature(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	secretB64 := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	for _, secret := range []string{secretB64, "raw secret bytes"} {
		srv := newRecorder(t, nil)
		c := jsonCallout()
		c.URL = srv.URL + "/webhook"
		req, err := Render(testConfig(t), c, seedEvent(rules.KindCreate))
		if err != nil {
			t.Fatal(err)
		}
		s := &Sender{Now: func() time.Time { return now }}
		res := attemptOf(s.Send(context.Background(), req, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", time.Second, Credentials{SigningSecret: secret}))
		if !res.Delivered {
			t.Fatalf("Send = %+v", res)
		}
		r := srv.requests()[0]
		if err := verifySignature(secret, r.Header, r.Body); err != nil {
			t.Fatalf("signature with %s secret: %v", secret[:5], err)
		}
		if err := verifySignature(secret, r.Header, append(r.Body, ' ')); err == nil {
			t.Fatal("signature verifies a different body")
		}
		if got := r.Header.Get("webhook-id"); got != "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W" {
			t.Errorf("webhook-id = %q", got)
		}
		if got := r.Header.Get("webhook-timestamp"); got != "1700000000" {
			t.Errorf("webhook-timestamp = %q", got)
		}
	}
}

// TestSignKnownAnswer checks Sign against the example of the Standard Webhooks
// specification's reference libraries.
func TestSignKnownAnswer(t *testing.T) {
	got, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

const (
	soap11Fault = `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>
<faultcode>soap:Server</faultcode><faultstring>Ticket 8176
not found</faultstring></soap:Fault></soap:Body></soap:Envelope>`
	soap12Fault = `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><env:Fault>
<env:Code><env:Value>env:Receiver</env:Value></env:Code><env:Reason><env:Text xml:lang="en">Boom</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>`
	soapOK = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
<CloseTicketResponse xmlns="http://tempuri.org/"><Fault>not a fault: not a child of Body</Fault></CloseTicketResponse></soap:Body></soap:Envelope>`
	soapHeaderFault = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><wsse:Security xmlns:wsse="urn:x"><wsu:Timestamp xmlns:wsu="urn:y"><wsu:Created>now</wsu:Created></wsu:Timestamp></wsse:Security></s:Header>
<s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>Bad ticket</faultstring></s:Fault></s:Body></s:Envelope>`
	xmlrpcFaultBody = `<?xml version="1.0"?><methodResponse><fault><value><struct>
<member><name>faultCode</name><value><int>4</int></value></member>
<member><name>faultString</name><value><string>Too many parameters.</string></value></member>
</struct></value></fault></methodResponse>`
	xmlrpcOK = `<?xml version="1.0"?><methodResponse><params><param><value><string>closed</string></value></param></params></methodResponse>`
)

func TestSendOutcome(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	long := strings.Repeat("x", 10<<10)
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   attempt // Duration and Response are checked separately
	}{
		{name: "200", status: 200, body: "ok", want: attempt{Delivered: true, StatusCode: 200}},
		{name: "204 empty", status: 204, want: attempt{Delivered: true, StatusCode: 204}},
		{name: "soap 1.1 fault in 200", status: 200, body: soap11Fault, want: attempt{StatusCode: 200, Err: "soap fault: soap:Server: Ticket 8176 not found"}},
		{name: "soap 1.2 fault in 200", status: 200, body: soap12Fault, want: attempt{StatusCode: 200, Err: "soap fault: env:Receiver: Boom"}},
		{name: "soap fault after a deep header", status: 200, body: soapHeaderFault, want: attempt{StatusCode: 200, Err: "soap fault: s:Client: Bad ticket"}},
		{name: "soap response", status: 200, body: soapOK, want: attempt{Delivered: true, StatusCode: 200}},
		{name: "xmlrpc fault", status: 200, body: xmlrpcFaultBody, want: attempt{StatusCode: 200, Err: "xmlrpc fault 4: Too many parameters."}},
		{name: "xmlrpc response", status: 200, body: xmlrpcOK, want: attempt{Delivered: true, StatusCode: 200}},
		{name: "malformed xml is not a fault", status: 200, body: "<soap:Envelope><", want: attempt{Delivered: true, StatusCode: 200}},
		{name: "500 excerpt", status: 500, body: "internal\n\terror\x00 in module X", want: attempt{StatusCode: 500, Err: "HTTP 500: internal error in module X"}},
		{name: "500 long body", status: 500, body: long, want: attempt{StatusCode: 500, Err: "HTTP 500: " + long[:200]}},
		{name: "404 no body", status: 404, want: attempt{StatusCode: 404, Err: "HTTP 404"}},
		{name: "302 not followed", status: 302, header: map[string]string{"Location": "/elsewhere"}, want: attempt{StatusCode: 302, Err: "HTTP 302 (redirects are not followed)"}},
		{name: "503 retry-after seconds", status: 503, header: map[string]string{"Retry-After": "120"}, body: "busy",
			want: attempt{StatusCode: 503, Err: "HTTP 503: busy", RetryAfter: 120 * time.Second}},
		{name: "429 retry-after date", status: 429, header: map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)},
			want: attempt{StatusCode: 429, Err: "HTTP 429", RetryAfter: 90 * time.Second}},
		{name: "429 retry-after capped", status: 429, header: map[string]string{"Retry-After": "999999"}, want: attempt{StatusCode: 429, Err: "HTTP 429", RetryAfter: time.Hour}},
		{name: "429 retry-after garbage", status: 429, header: map[string]string{"Retry-After": "soon"}, want: attempt{StatusCode: 429, Err: "HTTP 429"}},
		{name: "500 ignores retry-after", status: 500, header: map[string]string{"Retry-After": "5"}, want: attempt{StatusCode: 500, Err: "HTTP 500"}},
	}
	s := &Sender{Now: func() time.Time { return now }}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			res := attemptOf(s.Send(context.Background(), &Request{Method: "POST", URL: srv.URL, Body: []byte("x")}, "d", time.Second, Credentials{}))
			wantResp := tt.body
			if len(wantResp) > ResponseLimit {
				wantResp = wantResp[:ResponseLimit]
			}
			if string(res.Response) != wantResp {
				t.Errorf("Response = %d bytes %.40q, want %d bytes", len(res.Response), res.Response, len(wantResp))
			}
			res.Duration, res.Response = 0, nil
			if diff := cmp.Diff(tt.want, res); diff != "" {
				t.Errorf("Result (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSendTimeout(t *testing.T) {
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	start := time.Now()
	res := attemptOf((&Sender{}).Send(context.Background(), &Request{Method: "POST", URL: srv.URL}, "d", 100*time.Millisecond, Credentials{}))
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Fatalf("Send took %v with a 100ms timeout", elapsed)
	}
	want := attempt{Err: "timeout after 100ms"}
	if res.Duration < 100*time.Millisecond {
		t.Errorf("Duration = %v, want ≥ 100ms", res.Duration)
	}
	res.Duration = 0
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Result (-want +got):\n%s", diff)
	}
}

// TestSendErrorValue checks Send's error is a *SendError that errors.As finds with
// the status and reason, and that errors.Is sees the cause, as with http.Client.Do.
func TestSendErrorValue(t *testing.T) {
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-r.Context().Done()
			return
		}
		w.WriteHeader(http.StatusBadGateway)
	})
	res, err := (&Sender{}).Send(context.Background(), &Request{Method: "POST", URL: srv.URL}, "d", time.Second, Credentials{})
	var se *SendError
	if !errors.As(fmt.Errorf("attempt 3: %w", err), &se) || se.StatusCode != 502 || se.Reason != "HTTP 502" || res.StatusCode != 502 {
		t.Errorf("502: Result %+v, error %#v", res, err)
	}
	_, err = (&Sender{}).Send(context.Background(), &Request{Method: "POST", URL: srv.URL + "/slow"}, "d", 50*time.Millisecond, Credentials{})
	if !errors.As(err, &se) || se.StatusCode != 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: error %#v, want a *SendError wrapping context.DeadlineExceeded", err)
	}
	if _, err := (&Sender{}).Send(context.Background(), &Request{Method: "POST", URL: srv.URL}, "d", time.Second, Credentials{}); err == nil {
		t.Error("502 gave a nil error")
	}
	if _, err := (&Sender{}).Send(context.Background(), nil, "d", time.Second, Credentials{}); !errors.As(err, &se) || se.Reason != "no request" {
		t.Errorf("nil request: error %v", err)
	}
}

func TestSendCanceled(t *testing.T) {
	srv := newRecorder(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := attemptOf((&Sender{}).Send(ctx, &Request{Method: "POST", URL: srv.URL}, "d", time.Second, Credentials{}))
	if res.Delivered || res.Err != "canceled" {
		t.Fatalf("Send = %+v", res)
	}
}

func TestSendNetworkError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	res := attemptOf((&Sender{}).Send(context.Background(), &Request{Method: "POST", URL: "http://" + addr + "/x"}, "d", time.Second, Credentials{Username: "u", Password: "pw-123456"}))
	want := attempt{Err: "Post: dial tcp " + addr + ": connect: connection refused"}
	res.Duration = 0
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Result (-want +got):\n%s", diff)
	}
}

func TestSendRefuses(t *testing.T) {
	srv := newRecorder(t, nil)
	u := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		name    string
		req     *Request
		id      string
		cred    Credentials
		wantErr string
	}{
		{"nil request", nil, "d", Credentials{}, "no request"},
		{"embedded credentials", &Request{Method: "POST", URL: "http://svc:hunter2@" + u}, "d", Credentials{},
			"refused: the URL must not contain credentials; use username and password instead"},
		{"embedded user only", &Request{Method: "POST", URL: "http://svc@" + u}, "d", Credentials{},
			"refused: the URL must not contain credentials; use username and password instead"},
		{"file scheme", &Request{Method: "GET", URL: "file:///etc/passwd"}, "d", Credentials{}, `refused: unsupported URL scheme "file" (want http or https)`},
		{"gopher", &Request{Method: "GET", URL: "gopher://" + u}, "d", Credentials{}, `refused: unsupported URL scheme "gopher" (want http or https)`},
		{"bad method", &Request{Method: "PO ST", URL: srv.URL}, "d", Credentials{}, `refused: net/http: invalid method "PO ST"`},
		{"bad whsec", &Request{Method: "POST", URL: srv.URL}, "d", Credentials{SigningSecret: "whsec_!!hunter2!!"},
			"refused: signing secret: the part after whsec_ is not valid base64"},
		{"signing without id", &Request{Method: "POST", URL: srv.URL}, "", Credentials{SigningSecret: "k"}, "refused: signing needs a delivery id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := attemptOf((&Sender{}).Send(context.Background(), tt.req, tt.id, time.Second, tt.cred))
			res.Duration = 0
			if diff := cmp.Diff(attempt{Err: tt.wantErr}, res); diff != "" {
				t.Errorf("Result (-want +got):\n%s", diff)
			}
		})
	}
	if n := len(srv.requests()); n != 0 {
		t.Fatalf("server saw %d requests, want none", n)
	}
}

// TestSendNeverLeaksPassword: a failing request with basic auth whose server echoes
// the credentials back; the password appears nowhere in the Result or the log.
func TestSendNeverLeaksPassword(t *testing.T) {
	const password = "Tr0ub4dor&3-secret"
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		_, p, _ := r.BasicAuth()
		w.WriteHeader(401)
		fmt.Fprintf(w, "bad credentials: Authorization: %s (password %s)", r.Header.Get("Authorization"), p)
	})
	var logs bytes.Buffer
	s := &Sender{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	cred := Credentials{Username: "svc", Password: password, SigningSecret: "whsec_c2lnbmluZy1rZXk="}
	res := attemptOf(s.Send(context.Background(), &Request{Method: "POST", URL: srv.URL + "/x?q=1"}, "d", time.Second, cred))
	if res.Delivered || res.StatusCode != 401 {
		t.Fatalf("Send = %+v", res)
	}
	basic := base64.StdEncoding.EncodeToString([]byte("svc:" + password))
	all := fmt.Sprintf("%+v %#v %s %s %v", res, res, res.Response, logs.String(), cred)
	for _, secret := range []string{password, basic, cred.SigningSecret} {
		if strings.Contains(all, secret) {
			t.Fatalf("secret %.6s… leaked:\n%s", secret, all)
		}
	}
	if want := "HTTP 401: bad credentials: Authorization: Basic ******** (password ********)"; res.Err != want {
		t.Errorf("Err = %q, want %q", res.Err, want)
	}
	if !strings.Contains(logs.String(), "callout attempt") || !strings.Contains(logs.String(), "status=401") {
		t.Errorf("log = %s", logs.String())
	}
	// The request URL's query stays out of the log.
	if strings.Contains(logs.String(), "q=1") {
		t.Errorf("log holds the query: %s", logs.String())
	}
}

func TestSendReusesConnections(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	s := &Sender{}
	for i := range 5 {
		res := attemptOf(s.Send(context.Background(), &Request{Method: "POST", URL: srv.URL, Body: []byte("b")}, strconv.Itoa(i), time.Second, Credentials{}))
		if !res.Delivered {
			t.Fatalf("Send = %+v", res)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("5 sends opened %d connections, want 1", n)
	}
}

func TestSendConcurrent(t *testing.T) {
	srv := newRecorder(t, nil)
	s := &Sender{}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			res := attemptOf(s.Send(context.Background(), &Request{Method: "POST", URL: srv.URL}, strconv.Itoa(i), time.Second, Credentials{Username: "u", Password: "p"}))
			if !res.Delivered {
				t.Errorf("Send = %+v", res)
			}
		})
	}
	wg.Wait()
	if n := len(srv.requests()); n != 8 {
		t.Fatalf("server saw %d requests", n)
	}
}

func BenchmarkSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "<ok/>")
	}))
	defer srv.Close()
	c := soapCallout()
	c.URL = srv.URL
	req, err := Render(testConfig(b), c, seedEvent(rules.KindUpdate))
	if err != nil {
		b.Fatal(err)
	}
	s := &Sender{UserAgent: "ruleflow/bench"}
	cred := Credentials{Username: "svc", Password: "pw", SigningSecret: "whsec_c2lnbmluZy1rZXk="}
	b.ReportAllocs()
	for b.Loop() {
		if res := attemptOf(s.Send(context.Background(), req, "dlv-1", time.Second, cred)); !res.Delivered {
			b.Fatal(res.Err)
		}
	}
}

func TestCredentialsFor(t *testing.T) {
	key, err := rules.ParseKey(strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := key.Encrypt("Demo123")
	if err != nil {
		t.Fatal(err)
	}
	c := &rules.Callout{Name: "VSA", Username: "svc", Password: rules.Secret(enc), SigningSecret: "whsec_c2lnbmluZy1rZXk="}
	got, err := CredentialsFor(c, key)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Credentials{Username: "svc", Password: "Demo123", SigningSecret: "whsec_c2lnbmluZy1rZXk="}); got != want {
		t.Fatalf("CredentialsFor = %#v", got)
	}
	if s := fmt.Sprintf("%v %+v %#v", got, got, got); strings.Contains(s, "Demo123") || strings.Contains(s, "c2lnbmluZy1rZXk") {
		t.Fatalf("Credentials print their secrets: %s", s)
	}
	_, err = CredentialsFor(c, nil)
	if want := `callout "VSA": password: encrypted secret but no key (set RULEFLOW_KEY or provide the key file)`; err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
	c.Password, c.SigningSecret = "plain", "enc:v1:AAAA"
	_, err = CredentialsFor(c, key)
	if want := `callout "VSA": signing_secret: encrypted secret: too short`; err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

// attempt is what Send reported, flattened for comparisons: the Result, whether
// the error was nil, and the error's reason.
type attempt struct {
	Delivered  bool
	StatusCode int
	Duration   time.Duration
	Response   []byte
	Err        string
	RetryAfter time.Duration
}

// attemptOf flattens Send's results. An error that is not a *SendError, or one
// whose status differs from the Result's, shows in Err.
func attemptOf(res Result, err error) attempt {
	a := attempt{Delivered: err == nil, StatusCode: res.StatusCode, Duration: res.Duration, Response: res.Response, RetryAfter: res.RetryAfter}
	if err != nil {
		se, ok := errors.AsType[*SendError](err)
		switch {
		case !ok:
			a.Err = fmt.Sprintf("error %T is not a *SendError: %v", err, err)
		case se.StatusCode != res.StatusCode:
			a.Err = fmt.Sprintf("SendError status %d, Result status %d: %v", se.StatusCode, res.StatusCode, err)
		default:
			a.Err = err.Error()
		}
	}
	return a
}

// TestSendTransportSameAsClient: a Sender given the Transport of NewClient's
// client sends the same requests and reports the same results and reasons as one
// going through the client: statuses, faults, redirects not followed, a body
// longer than what is read, Retry-After, timeouts, refused connections and URLs,
// basic auth, signatures.
func TestSendTransportSameAsClient(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		u, p, _ := r.BasicAuth()
		w.Header().Set("X-Seen", strings.Join([]string{r.Method, r.URL.Path, r.Header.Get("User-Agent"), r.Header.Get("Idempotency-Key"),
			r.Header.Get("Content-Type"), r.Header.Get("SOAPAction"), u, p, r.Header.Get(HeaderWebhookSignature)}, "|"))
		switch r.URL.Path {
		case "/fault":
			io.WriteString(w, soap11Fault)
		case "/redirect":
			w.Header().Set("Location", "/ok")
			w.WriteHeader(http.StatusFound)
		case "/busy":
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "busy")
		case "/long":
			// Longer than is read, not longer than is discarded: the connection is reused.
			io.WriteString(w, strings.Repeat("y", classifyLimit+classifyLimit/2))
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		default:
			io.WriteString(w, "ok")
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/x"
	ln.Close()
	withUser := strings.Replace(srv.URL, "http://", "http://urluser:urlpw@", 1) + "/ok"

	tests := []struct {
		name    string
		req     *Request
		timeout time.Duration
		cred    Credentials
	}{
		{"ok", &Request{Method: "POST", URL: srv.URL + "/ok", Body: []byte("a=1"), Header: map[string]string{"Content-Type": "text/plain", "SOAPAction": "urn:x"}}, time.Second, Credentials{}},
		{"basic auth and signature", &Request{Method: "POST", URL: srv.URL + "/ok", Body: []byte("b")}, time.Second, Credentials{Username: "u", Password: "pw", SigningSecret: "whsec_c2lnbmluZy1rZXk="}},
		{"user in url", &Request{Method: "POST", URL: withUser}, time.Second, Credentials{}},
		{"get", &Request{Method: "GET", URL: srv.URL + "/ok"}, time.Second, Credentials{}},
		{"fault", &Request{Method: "POST", URL: srv.URL + "/fault"}, time.Second, Credentials{}},
		{"redirect", &Request{Method: "POST", URL: srv.URL + "/redirect", Body: []byte("c")}, time.Second, Credentials{}},
		{"busy", &Request{Method: "POST", URL: srv.URL + "/busy"}, time.Second, Credentials{}},
		{"long", &Request{Method: "POST", URL: srv.URL + "/long"}, time.Second, Credentials{}},
		{"timeout", &Request{Method: "POST", URL: srv.URL + "/slow"}, 50 * time.Millisecond, Credentials{}},
		{"refused", &Request{Method: "POST", URL: closed}, time.Second, Credentials{}},
	}
	viaClient := &Sender{UserAgent: "ruleflow/t", Now: func() time.Time { return now }}
	direct := &Sender{UserAgent: "ruleflow/t", Now: func() time.Time { return now }, Transport: NewClient().Transport}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var results [2]Result
			var reasons [2]string
			for i, s := range []*Sender{viaClient, direct} {
				res, err := s.Send(context.Background(), tt.req, "dlv-1", tt.timeout, tt.cred)
				if err != nil {
					reasons[i] = err.Error()
				}
				res.Duration = 0
				results[i] = res
			}
			if reasons[0] != reasons[1] {
				t.Errorf("reason: client %q, transport %q", reasons[0], reasons[1])
			}
			if tt.name == "refused" || tt.name == "timeout" || tt.name == "user in url" {
				if reasons[0] == "" {
					t.Errorf("%s: no error", tt.name)
				}
			} else if results[0].Header.Get("X-Seen") == "" {
				t.Errorf("no response header seen: %+v", results[0])
			}
			for _, r := range &results {
				r.Header.Del("Date")
			}
			if diff := cmp.Diff(results[0], results[1]); diff != "" {
				t.Errorf("Result (client -, transport +):\n%s", diff)
			}
		})
	}
	// Both senders kept their connections: each opened at most a few.
	before := conns.Load()
	for i := range 20 {
		if _, err := direct.Send(context.Background(), &Request{Method: "POST", URL: srv.URL + "/long"}, strconv.Itoa(i), time.Second, Credentials{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load() - before; n > 1 {
		t.Errorf("20 sends of long answers opened %d connections, want at most 1", n)
	}
}

// BenchmarkSendTransport is BenchmarkSend with the request handed to the transport
// directly (Sender.Transport), as the engine's dispatcher sends.
func BenchmarkSendTransport(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "<ok/>")
	}))
	defer srv.Close()
	c := soapCallout()
	c.URL = srv.URL
	req, err := Render(testConfig(b), c, seedEvent(rules.KindUpdate))
	if err != nil {
		b.Fatal(err)
	}
	s := &Sender{UserAgent: "ruleflow/bench", Transport: NewClient().Transport}
	cred := Credentials{Username: "svc", Password: "pw", SigningSecret: "whsec_c2lnbmluZy1rZXk="}
	b.ReportAllocs()
	for b.Loop() {
		if res := attemptOf(s.Send(context.Background(), req, "dlv-1", time.Second, cred)); !res.Delivered {
			b.Fatal(res.Err)
		}
	}
}
