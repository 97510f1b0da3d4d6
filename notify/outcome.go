package notify

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ruleflow/ruleflow/rules"
)

// Outcome is what a notification reports about one delivery that has ended.
type Outcome struct {
	Callout      string `json:"callout"`
	Rule         string `json:"rule"`
	Form         string `json:"form"`
	EntryID      string `json:"entry_id"`
	TicketNumber string `json:"ticket_number,omitempty"`

	// Delivered is true when the remote system accepted the callout, false when the
	// delivery failed after its last retry.
	Delivered bool `json:"delivered"`
	// Attempts counts every attempt, the first one included.
	Attempts int `json:"attempts"`
	// LastStatusCode is the HTTP status of the last attempt; 0 when it got no response.
	LastStatusCode int `json:"last_status_code,omitempty"`
	// LastError is the error of the last attempt (network error, timeout, SOAP fault).
	LastError string `json:"last_error,omitempty"`

	FirstAttempt time.Time `json:"first_attempt"`
	LastAttempt  time.Time `json:"last_attempt"`

	// URL is the callout URL. Render removes any userinfo and masks the values of
	// query parameters that look like credentials before it is shown.
	URL string `json:"url"`
	// DeliveryID identifies the delivery in the outbox (`ruleflow deliveries show ID`).
	DeliveryID string `json:"delivery_id"`
}

// ShouldNotify reports whether an e-mail goes out for a delivery that has ended: never
// without recipients; always when it failed; when it was delivered, unless the notify
// block says failures_only.
func ShouldNotify(n *rules.Notify, delivered bool) bool {
	if n == nil || !hasRecipient(n.To) {
		return false
	}
	if !delivered {
		return true
	}
	return !n.FailuresOnly
}

func hasRecipient(to []string) bool {
	for _, s := range to {
		if strings.TrimSpace(s) != "" {
			return true
		}
	}
	return false
}

// Data is what the notification templates see: the Outcome with its times in the
// configured zone and the URL made safe to show.
type Data struct {
	Callout      string
	Rule         string
	Form         string
	EntryID      string
	TicketNumber string
	DeliveryID   string

	Delivered bool
	// Outcome is "delivered" or "failed".
	Outcome  string
	Attempts int
	// LastStatusCode is the HTTP status of the last attempt, 0 when there was none;
	// LastStatus is the same with its reason phrase ("503 Service Unavailable"), or
	// "" when there was none.
	LastStatusCode int
	LastStatus     string
	LastError      string

	// FirstAttempt and LastAttempt are in the configured zone, TimeZone is its name.
	FirstAttempt time.Time
	LastAttempt  time.Time
	TimeZone     string

	// URL is the callout URL without userinfo and with credential-like query values
	// masked.
	URL string
}

// newData converts o for the templates; loc nil means UTC.
func newData(o Outcome, loc *time.Location) Data {
	if loc == nil {
		loc = time.UTC
	}
	d := Data{
		Callout:        o.Callout,
		Rule:           o.Rule,
		Form:           o.Form,
		EntryID:        o.EntryID,
		TicketNumber:   o.TicketNumber,
		DeliveryID:     o.DeliveryID,
		Delivered:      o.Delivered,
		Outcome:        "failed",
		Attempts:       o.Attempts,
		LastStatusCode: o.LastStatusCode,
		LastError:      scrubURLs(o.LastError),
		TimeZone:       loc.String(),
		URL:            SafeURL(o.URL),
	}
	if o.Delivered {
		d.Outcome = "delivered"
	}
	if o.LastStatusCode != 0 {
		d.LastStatus = strconv.Itoa(o.LastStatusCode)
		if text := http.StatusText(o.LastStatusCode); text != "" {
			d.LastStatus += " " + text
		}
	}
	if !o.FirstAttempt.IsZero() {
		d.FirstAttempt = o.FirstAttempt.In(loc)
	}
	if !o.LastAttempt.IsZero() {
		d.LastAttempt = o.LastAttempt.In(loc)
	}
	return d
}

// SafeURL returns raw fit to show in an e-mail or a ticket note: rules.MaskURL, the
// one masking function of every surface. The result never holds userinfo; the value
// of every query parameter whose name suggests a credential (password, secret, token,
// key, auth, signature, …) is replaced by rules.Masked; the fragment is dropped.
func SafeURL(raw string) string { return rules.MaskURL(raw) }

// scrubURLs masks every URL inside free text such as an error message
// ("Post \"https://user:pw@host/x\": EOF").
func scrubURLs(s string) string { return rules.MaskURLsIn(s) }
