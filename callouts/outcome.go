package callouts

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kolo/xmlrpc"
)

// ResponseLimit is how much of a response body a Result keeps (design §6: the first
// 4 KiB of the response is recorded with every attempt).
const ResponseLimit = 4 << 10

// classifyLimit is how much of a response body is read to look for a fault.
const classifyLimit = 64 << 10

// excerptLimit is how many bytes of the response a SendError reason quotes.
const excerptLimit = 200

// MaxRetryAfter caps the delay a receiver can ask for with Retry-After.
const MaxRetryAfter = time.Hour

// Result is what one delivery attempt observed, whether it succeeded or not (Send
// reports the failure as its error).
type Result struct {
	StatusCode int           `json:"status_code,omitempty"` // 0 when there was no response
	Duration   time.Duration `json:"duration"`
	Response   []byte        `json:"response,omitempty"`    // first 4 KiB of the response body
	RetryAfter time.Duration `json:"retry_after,omitempty"` // from Retry-After on 429/503, 0 if absent
	Header     http.Header   `json:"-"`                     // the response's headers; nil when there was no response
}

// SendError is a failed delivery attempt, as Send returns it: a refused request, a
// network error, a timeout, a non-2xx status or a SOAP or XML-RPC fault. Test for
// it with errors.As; errors.Is(err, context.DeadlineExceeded) and the like see the
// underlying cause. Its text never holds the callout's credentials.
type SendError struct {
	// StatusCode is the response's HTTP status, 0 when there was no response.
	StatusCode int
	// Reason says why, as stored with the attempt: "HTTP 503: <excerpt>",
	// "timeout after 20s", "refused: ...", or the fault's text.
	Reason string
	// Err is the underlying error (network, context); nil when a response was read.
	Err error
}

// Error returns the reason.
func (e *SendError) Error() string { return e.Reason }

// Unwrap returns the underlying error.
func (e *SendError) Unwrap() error { return e.Err }

// classify decides the outcome of a response whose status line and (a prefix of
// the) body have been read: any 2xx without a SOAP or XML-RPC fault is delivered
// (nil); everything else fails with a *SendError.
func classify(res *Result, resp *http.Response, body []byte, now time.Time) *SendError {
	res.StatusCode = resp.StatusCode
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		res.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		reason := "HTTP " + strconv.Itoa(resp.StatusCode)
		if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
			reason += " (redirects are not followed)"
		}
		if ex := excerpt(body); ex != "" {
			reason += ": " + ex
		}
		return &SendError{StatusCode: resp.StatusCode, Reason: reason}
	}
	if fault, ok := findFault(body); ok {
		return &SendError{StatusCode: resp.StatusCode, Reason: fault}
	}
	return nil
}

// parseRetryAfter reads a Retry-After value, delay-seconds or an HTTP date, as a
// duration from now. Invalid, negative or past values give 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		return time.Duration(n) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	d := t.Sub(now)
	if d <= 0 {
		return 0
	}
	return min(d, MaxRetryAfter)
}

// excerpt returns the start of a response body as one line of printable text.
func excerpt(body []byte) string {
	if len(body) > excerptLimit {
		body = body[:excerptLimit]
		// Do not cut a UTF-8 sequence in half.
		for i := 0; i < utf8.UTFMax && len(body) > 0 && !utf8.Valid(body); i++ {
			body = body[:len(body)-1]
		}
	}
	s := strings.ToValidUTF8(string(body), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// findFault looks for a SOAP Fault (an element named Fault, in any namespace, that is
// the first child of the Body of an Envelope) or an XML-RPC <fault> in a
// methodResponse. It returns the failure reason when one is found. Bodies that are
// not XML, or not SOAP or XML-RPC, have no fault.
func findFault(body []byte) (string, bool) {
	trimmed := bytes.TrimLeft(body, " \t\r\n\ufeff")
	if len(trimmed) == 0 || trimmed[0] != '<' {
		return "", false
	}
	d := xml.NewDecoder(bytes.NewReader(trimmed))
	d.Strict = false
	var path []string // the open elements we descended into: root, then Body
	for {
		tok, err := d.Token()
		if err != nil {
			return "", false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			switch len(path) {
			case 0:
				if name != "Envelope" && name != "methodResponse" {
					return "", false
				}
				path = append(path, name)
			case 1:
				switch {
				case path[0] == "methodResponse" && name == "fault":
					return xmlrpcFault(body), true
				case path[0] == "Envelope" && name == "Body":
					path = append(path, name)
				default: // a SOAP Header, XML-RPC params: not where faults live
					if d.Skip() != nil {
						return "", false
					}
				}
			default: // the first child of Body decides
				if name == "Fault" {
					return soapFault(d), true
				}
				return "", false
			}
		case xml.EndElement:
			if len(path) > 0 {
				path = path[:len(path)-1]
			}
		}
	}
}

// soapFault reads the rest of a Fault element and describes it: SOAP 1.1 faultcode
// and faultstring, or SOAP 1.2 Code/Value and Reason/Text.
func soapFault(d *xml.Decoder) string {
	var code, reason string
	var path []string
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
		case xml.EndElement:
			if len(path) == 0 {
				goto done
			}
			path = path[:len(path)-1]
		case xml.CharData:
			text := strings.TrimSpace(string(t))
			if text == "" || len(path) == 0 {
				continue
			}
			switch leaf := path[len(path)-1]; {
			case leaf == "faultcode" && code == "":
				code = text
			case leaf == "faultstring" && reason == "":
				reason = text
			case leaf == "Value" && len(path) >= 2 && path[len(path)-2] == "Code" && code == "":
				code = text
			case leaf == "Text" && len(path) >= 2 && path[len(path)-2] == "Reason" && reason == "":
				reason = text
			}
		}
	}
done:
	msg := "soap fault"
	if code != "" {
		msg += ": " + excerpt([]byte(code))
	}
	if reason != "" {
		msg += ": " + excerpt([]byte(reason))
	}
	return msg
}

// xmlrpcFault describes the <fault> of an XML-RPC methodResponse.
func xmlrpcFault(body []byte) string {
	err := xmlrpc.Response(body).Err()
	if f, ok := err.(xmlrpc.FaultError); ok {
		return fmt.Sprintf("xmlrpc fault %d: %s", f.Code, excerpt([]byte(f.String)))
	}
	if err != nil {
		// A <fault> that does not decode is still a fault.
		return "xmlrpc fault: " + excerpt([]byte(err.Error()))
	}
	return "xmlrpc fault"
}
