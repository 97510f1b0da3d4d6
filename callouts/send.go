package callouts

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
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
	res, serr := s.send(ctx, req, deliveryID, timeout, cred)
	res.Duration = time.Since(start)
	res.Response = scrubBytes(res.Response, cred)
	var err error
	if serr != nil {
		serr.Reason = scrub(serr.Reason, cred)
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

func (s *Sender) send(ctx context.Context, req *Request, deliveryID string, timeout time.Duration, cred Credentials) (Result, *SendError) {
	if req == nil {
		return Result{}, &SendError{Reason: "no request"}
	}
	if err := rules.CheckURL(req.URL); err != nil {
		return refused(err.Error(), err)
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	hreq, err := http.NewRequestWithContext(ctx, req.Method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return refused(unwrapURLError(err), err)
	}
	if len(req.Body) == 0 {
		hreq.Body, hreq.GetBody, hreq.ContentLength = http.NoBody, nil, 0
	}
	for k, v := range req.Header {
		if rules.ForbiddenHeader(k) {
			continue
		}
		hreq.Header[k] = []string{v} // kept as spelled: some SOAP servers want "SOAPAction"
	}
	ua := s.UserAgent
	if ua == "" {
		ua = "ruleflow"
	}
	hreq.Header.Set("User-Agent", ua)
	if deliveryID != "" {
		hreq.Header.Set("Idempotency-Key", deliveryID)
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
		hreq.Header[HeaderWebhookTimestamp] = []string{fmt.Sprint(ts.Unix())}
		hreq.Header[HeaderWebhookSignature] = []string{sig}
	}

	resp, err := s.httpClient().Do(hreq)
	if err != nil {
		cause := err
		if ue, ok := errors.AsType[*url.Error](err); ok {
			cause = ue.Err // without the URL
		}
		return Result{}, &SendError{Reason: networkError(ctx, err, timeout), Err: cause}
	}
	defer resp.Body.Close()
	body := readPrefix(resp.Body, classifyLimit)
	body = scrubBytes(body, cred)
	var res Result
	cerr := classify(&res, resp, body, s.now())
	if len(body) > ResponseLimit {
		body = body[:ResponseLimit]
	}
	res.Response = bytes.Clone(body)
	res.Header = resp.Header.Clone()
	return res, cerr
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

// scrubBytes masks the credentials in a response body (a server may echo them).
func scrubBytes(b []byte, cred Credentials) []byte {
	for _, s := range secretsOf(cred) {
		if bytes.Contains(b, []byte(s)) {
			b = bytes.ReplaceAll(b, []byte(s), []byte(rules.Masked))
		}
	}
	return b
}

// scrub masks the credentials in a text (a failure reason).
func scrub(text string, cred Credentials) string {
	for _, s := range secretsOf(cred) {
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
