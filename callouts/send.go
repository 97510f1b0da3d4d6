package callouts

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ruleflow/ruleflow/callouts/egress"
	"github.com/ruleflow/ruleflow/rules"
)

// DefaultTimeout bounds one attempt when the callout sets no timeout.
const DefaultTimeout = 20 * time.Second

// Credentials are the secrets of one callout, already decrypted by the caller. They
// are used only to build the Authorization and signature headers of the attempt and
// never appear in a Result or a log.
type Credentials struct {
	Username      string
	Password      string
	SigningSecret string
}

// String masks the secrets, so Credentials never leak through fmt.
func (c Credentials) String() string {
	return fmt.Sprintf("{Username:%s Password:%s SigningSecret:%s}", c.Username, rules.Secret(c.Password), rules.Secret(c.SigningSecret))
}

// GoString masks the secrets for %#v.
func (c Credentials) GoString() string { return "callouts.Credentials" + c.String() }

// LogValue masks the secrets in structured logs.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", c.Username), slog.String("password", rules.Secret(c.Password).String()))
}

// Sender delivers rendered requests. Its zero value is ready to use and safe for
// concurrent use; a Sender must not be copied after first use.
//
// Each Send is one attempt: it adds User-Agent, Idempotency-Key, HTTP Basic auth and
// the optional Standard Webhooks signature, waits at most the callout's timeout,
// reads the first bytes of the response and classifies the outcome (see Result).
// Send never retries; Policy says when to call it again.
type Sender struct {
	// Client sends the requests. nil means a client shared by this Sender's calls,
	// built by NewClient (egress guard, connection reuse, no redirects followed).
	Client *http.Client
	// Transport, when set, takes the requests directly instead of Client: what a
	// client built by NewGuardedClient does, without its per-request work (a copy
	// of the headers and the URL kept for redirects that are never followed). Set
	// it only to the Transport of such a client, or of one that also has no
	// cookie jar, no timeout and follows no redirects; Client is then not used.
	Transport http.RoundTripper
	// UserAgent is sent as User-Agent, e.g. "ruleflow/1.2.0"; empty means "ruleflow".
	UserAgent string
	// Now returns the current time for signature timestamps and Retry-After dates;
	// nil means time.Now. Durations are always measured on the monotonic clock.
	Now func() time.Time
	// Logger receives one debug record per attempt (never with credentials or
	// headers); nil means no logging.
	Logger *slog.Logger

	once   sync.Once
	client *http.Client
	// bufs holds response-reading buffers (*[]byte) for reuse: every attempt reads
	// the start of a response, and a fresh buffer per attempt is garbage at once.
	bufs sync.Pool
}

// NewClient returns the HTTP client a Sender uses when none is given:
// NewGuardedClient with the default egress policy and the system resolver.
func NewClient() *http.Client { return NewGuardedClient(nil, nil) }

// NewGuardedClient returns an HTTP client whose every connection goes through an
// egress guard (package callouts/egress): the host is resolved with r (nil: the
// system resolver), every address is checked against the policy in force (policy
// is called per request; nil means the default policy) for the origin in the
// request's context (egress.WithOrigin), and only vetted addresses are dialled.
// Proxy variables from the environment are ignored. The transport keeps idle
// connections per host for reuse, and the client does not follow redirects (a 3xx
// is a failed delivery, as the Standard Webhooks guidance says, and a redirected
// POST would lose its body).
func NewGuardedClient(r egress.Resolver, policy func() *egress.Policy) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 32
	t.IdleConnTimeout = 90 * time.Second
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ExpectContinueTimeout = time.Second
	t.ForceAttemptHTTP2 = true
	return &http.Client{
		Transport:     egress.NewGuard(t, r, policy),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (s *Sender) httpClient() *http.Client {
	if s.Client != nil {
		return s.Client
	}
	s.once.Do(func() { s.client = NewClient() })
	return s.client
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Send makes one attempt to deliver req. deliveryID is sent as Idempotency-Key (and
// webhook-id when signing), so it must stay the same across retries. timeout bounds
// the whole exchange (0 means DefaultTimeout). The error is nil when the callout
// was delivered, else a *SendError for every problem — a refused URL, a network
// error, a timeout, a non-2xx status, a fault. The Result holds what was observed
// either way (status, duration, the start of the response).
func (s *Sender) Send(ctx context.Context, req *Request, deliveryID string, timeout time.Duration, cred Credentials) (Result, error) {
	start := time.Now()
	secrets := secretsOf(cred) // once per attempt: it encodes the basic auth value
	res, serr := s.send(ctx, req, deliveryID, timeout, cred, secrets)
	res.Duration = time.Since(start)
	res.Response = scrubBytes(res.Response, secrets)
	var err error
	if serr != nil {
		serr.Reason = scrub(serr.Reason, secrets)
		err = serr
	}
	if s.Logger != nil {
		attrs := []slog.Attr{
			slog.String("delivery_id", deliveryID),
			slog.Bool("delivered", err == nil),
			slog.Int("status", res.StatusCode),
			slog.Duration("duration", res.Duration),
		}
		if req != nil {
			attrs = append(attrs, slog.String("method", req.Method), slog.String("url", redactURL(req.URL)))
		}
		if serr != nil {
			attrs = append(attrs, slog.String("error", serr.Reason))
		}
		s.Logger.LogAttrs(ctx, slog.LevelDebug, "callout attempt", attrs...)
	}
	return res, err
}

// refused is a request Send does not make.
func refused(reason string, err error) (Result, *SendError) {
	return Result{}, &SendError{Reason: "refused: " + reason, Err: err}
}

func (s *Sender) send(ctx context.Context, req *Request, deliveryID string, timeout time.Duration, cred Credentials, secrets []string) (Result, *SendError) {
	if req == nil {
		return Result{}, &SendError{Reason: "no request"}
	}
	if err := rules.CheckURL(req.URL); err != nil {
		return refused(err.Error(), err)
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	// A caller that already bounds the attempt by its timeout (the engine's
	// dispatcher does) needs no second context and timer per attempt.
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > timeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}

	hreq, err := http.NewRequestWithContext(ctx, req.Method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return refused(unwrapURLError(err), err)
	}
	if len(req.Body) == 0 {
		hreq.Body, hreq.GetBody, hreq.ContentLength = http.NoBody, nil, 0
	}
	// Every header value is a one-element slice of one backing array, capped so
	// that a later Add on one header cannot overwrite the next: one allocation for
	// all values instead of one per header.
	vals := make([]string, 0, len(req.Header)+2)
	set := func(k, v string) {
		vals = append(vals, v)
		n := len(vals)
		hreq.Header[k] = vals[n-1 : n : n]
	}
	for k, v := range req.Header {
		if rules.ForbiddenHeader(k) {
			continue
		}
		set(k, v) // kept as spelled: some SOAP servers want "SOAPAction"
	}
	ua := s.UserAgent
	if ua == "" {
		ua = "ruleflow"
	}
	set("User-Agent", ua) // canonical already, as Header.Set would make it
	if deliveryID != "" {
		set("Idempotency-Key", deliveryID)
	}
	if cred.Username != "" {
		hreq.SetBasicAuth(cred.Username, cred.Password)
	}
	if cred.SigningSecret != "" {
		if deliveryID == "" {
			return refused("signing needs a delivery id", nil)
		}
		ts := s.now()
		sig, err := Sign(cred.SigningSecret, deliveryID, ts, req.Body)
		if err != nil {
			return refused(err.Error(), err)
		}
		hreq.Header[HeaderWebhookID] = []string{deliveryID}
		hreq.Header[HeaderWebhookTimestamp] = []string{strconv.FormatInt(ts.Unix(), 10)}
		hreq.Header[HeaderWebhookSignature] = []string{sig}
	}

	resp, err := s.do(hreq)
	if err != nil {
		cause := err
		if ue, ok := errors.AsType[*url.Error](err); ok {
			cause = ue.Err // without the URL
		}
		return Result{}, &SendError{Reason: networkError(ctx, err, timeout), Err: cause}
	}
	defer resp.Body.Close()
	buf := s.buffer()
	defer s.bufs.Put(buf)
	*buf = readPrefix(resp.Body, (*buf)[:0], classifyLimit)
	body := scrubBytes(*buf, secrets)
	var res Result
	cerr := classify(&res, resp, body, s.now())
	if len(body) > ResponseLimit {
		body = body[:ResponseLimit]
	}
	res.Response = bytes.Clone(body) // the buffer goes back to the pool
	// The response's header map is this call's alone (net/http builds one per
	// response), so the Result takes it without a copy.
	res.Header = resp.Header
	return res, cerr
}

// buffer returns a response-reading buffer from the pool, or a new one.
func (s *Sender) buffer() *[]byte {
	if b, ok := s.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 4<<10)
	return &b
}

// readPrefix appends at most limit bytes of r to b; when r has more, it discards up
// to another limit bytes, so the connection can be reused.
func readPrefix(r io.Reader, b []byte, limit int) []byte {
	for len(b) < limit {
		if len(b) == cap(b) {
			b = slices.Grow(b, min(max(cap(b), 512), limit-len(b)))
		}
		n, err := r.Read(b[len(b):min(cap(b), limit)])
		b = b[:len(b)+n]
		if err != nil {
			return b // io.EOF: all of it was read
		}
	}
	io.Copy(io.Discard, io.LimitReader(r, int64(limit)))
	return b
}

// do sends hreq with Transport if set, else with the client.
func (s *Sender) do(hreq *http.Request) (*http.Response, error) {
	rt := s.Transport
	if rt == nil {
		return s.httpClient().Do(hreq)
	}
	// What http.Client.Do does for a client without jar, timeout or redirects,
	// errors wrapped as it wraps them.
	if u := hreq.URL.User; u != nil && hreq.Header.Get("Authorization") == "" {
		pw, _ := u.Password()
		hreq.SetBasicAuth(u.Username(), pw)
	}
	resp, err := rt.RoundTrip(hreq)
	switch {
	case err != nil:
		if tlsErr, ok := errors.AsType[tls.RecordHeaderError](err); ok && string(tlsErr.RecordHeader[:]) == "HTTP/" {
			err = http.ErrSchemeMismatch
		}
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		return nil, &url.Error{Op: urlErrorOp(hreq.Method), URL: redactURL(hreq.URL.String()), Err: err}
	case resp == nil:
		return nil, &url.Error{Op: urlErrorOp(hreq.Method), URL: redactURL(hreq.URL.String()),
			Err: fmt.Errorf("http: RoundTripper implementation (%T) returned a nil *Response with a nil error", rt)}
	case resp.Body == nil:
		resp.Body = http.NoBody
	}
	return resp, nil
}

// urlErrorOp is the Op of the *url.Error http.Client.Do returns: "Post" for POST.
func urlErrorOp(method string) string {
	if method == "" {
		return "Get"
	}
	return method[:1] + strings.ToLower(method[1:])
}

// networkError describes a failed exchange without repeating the URL.
func networkError(ctx context.Context, err error, timeout time.Duration) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("timeout after %s", timeout)
	}
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	return unwrapURLError(err)
}

func unwrapURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}

// redactURL returns scheme, host and path of a URL, for logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// secretsOf lists the texts that must never appear in a Result.
func secretsOf(cred Credentials) []string {
	var out []string
	if cred.Password != "" {
		out = append(out, cred.Password)
	}
	if cred.Username != "" || cred.Password != "" {
		out = append(out, base64.StdEncoding.EncodeToString([]byte(cred.Username+":"+cred.Password)))
	}
	if cred.SigningSecret != "" {
		out = append(out, cred.SigningSecret)
	}
	return out
}

// scrubBytes masks secrets (secretsOf) in a response body (a server may echo them).
func scrubBytes(b []byte, secrets []string) []byte {
	for _, s := range secrets {
		if bytes.Contains(b, []byte(s)) {
			b = bytes.ReplaceAll(b, []byte(s), []byte(rules.Masked))
		}
	}
	return b
}

// scrub masks secrets (secretsOf) in a text (a failure reason).
func scrub(text string, secrets []string) string {
	for _, s := range secrets {
		text = strings.ReplaceAll(text, s, rules.Masked)
	}
	return text
}

// CredentialsFor decrypts the password and signing secret of callout c with key k
// (nil when no secret is encrypted). Errors name the callout and the setting, never
// the secret.
func CredentialsFor(c *rules.Callout, k *rules.Key) (Credentials, error) {
	pw, err := c.Password.Value(k)
	if err != nil {
		return Credentials{}, fmt.Errorf("callout %q: password: %w", c.Name, err)
	}
	sig, err := c.SigningSecret.Value(k)
	if err != nil {
		return Credentials{}, fmt.Errorf("callout %q: signing_secret: %w", c.Name, err)
	}
	return Credentials{Username: c.Username, Password: pw, SigningSecret: sig}, nil
}
