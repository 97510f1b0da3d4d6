package rules

import (
	"time"

	"github.com/ruleflow/ruleflow/qualification"
)

// Config is a loaded, validated ruleflow configuration (design §4). A Config returned
// by Load is immutable and safe for concurrent use; its conditions are compiled.
type Config struct {
	Version         int                    `yaml:"version" json:"version"`
	Timezone        string                 `yaml:"timezone,omitempty" json:"timezone,omitempty"`
	Domain          string                 `yaml:"domain,omitempty" json:"domain,omitempty"`
	Nulls           string                 `yaml:"nulls,omitempty" json:"nulls,omitempty"` // workflow (default) or search
	CaseInsensitive bool                   `yaml:"case_insensitive,omitempty" json:"case_insensitive,omitempty"`
	SMTP            *SMTP                  `yaml:"smtp,omitempty" json:"smtp,omitempty"`
	Notes           *NotesEndpoint         `yaml:"notes,omitempty" json:"notes,omitempty"`
	Lookup          *LookupEndpoint        `yaml:"lookup,omitempty" json:"lookup,omitempty"`
	Egress          *Egress                `yaml:"egress,omitempty" json:"egress,omitempty"`
	Breaker         *Breaker               `yaml:"breaker,omitempty" json:"breaker,omitempty"`
	History         *History               `yaml:"history,omitempty" json:"history,omitempty"`
	Telemetry       *Telemetry             `yaml:"telemetry,omitempty" json:"telemetry,omitempty"`
	Forms           []*Form                `yaml:"-" json:"-"` // decoded from the forms: mapping, in file order
	Callouts        []*Callout             `yaml:"callouts,omitempty" json:"callouts,omitempty"`
	Rules           []*Rule                `yaml:"rules,omitempty" json:"rules,omitempty"`
	Webhooks        []*Webhook             `yaml:"webhooks,omitempty" json:"webhooks,omitempty"`
	Callbacks       []*CallbackFunction    `yaml:"callback_functions,omitempty" json:"callback_functions,omitempty"`
	Targets         []*TargetURL           `yaml:"target_urls,omitempty" json:"target_urls,omitempty"`
	Resources       []*Resource            `yaml:"resources,omitempty" json:"resources,omitempty"`
	Location        *time.Location         `yaml:"-" json:"-"` // from Timezone; UTC when empty
	NullMode        qualification.NullMode `yaml:"-" json:"-"` // from Nulls
	File            string                 `yaml:"-" json:"-"` // the file it was loaded from, if any

	idx *index // lookups and the (form, kind) rule index, built by Parse and WithWebhooks
}

// SMTP holds the mail server settings for notifications.
type SMTP struct {
	Host           string   `yaml:"host" json:"host"`
	Port           int      `yaml:"port,omitempty" json:"port,omitempty"`
	Username       string   `yaml:"username,omitempty" json:"username,omitempty"`
	Password       Secret   `yaml:"password,omitempty" json:"password,omitempty"`
	TLS            string   `yaml:"tls,omitempty" json:"tls,omitempty"` // none | starttls | tls
	From           string   `yaml:"from" json:"from"`
	ConnectTimeout Duration `yaml:"connect_timeout,omitempty" json:"connect_timeout,omitempty"`
	SendTimeout    Duration `yaml:"send_timeout,omitempty" json:"send_timeout,omitempty"`
}

// NotesEndpoint is where `ruleflow serve` forwards ticket notes when no Go host
// implements AddNote: an HTTP endpoint of the ticketing system.
type NotesEndpoint struct {
	URL      string            `yaml:"url" json:"url"`
	Username string            `yaml:"username,omitempty" json:"username,omitempty"`
	Password Secret            `yaml:"password,omitempty" json:"password,omitempty"`
	Headers  map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
}

// LookupEndpoint is where `ruleflow serve` reads the fresh values of a record when
// one of its time-based rules' timers falls due, instead of the snapshot the engine
// kept from the record's last save: GET URL?form=FORM&entry_id=ID answering the
// record as a JSON object of field values (404: the record is gone).
type LookupEndpoint struct {
	URL      string            `yaml:"url" json:"url"`
	Username string            `yaml:"username,omitempty" json:"username,omitempty"`
	Password Secret            `yaml:"password,omitempty" json:"password,omitempty"`
	Headers  map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	Timeout  Duration          `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// Form is a record type with its field schema and the fields that feed the standard
// callout data.
type Form struct {
	Name          string                `yaml:"-" json:"name"`
	Schema        *qualification.Schema `yaml:"-" json:"-"`
	CalloutFields CalloutFields         `yaml:"callout_fields,omitempty" json:"callout_fields,omitempty"`
	RenamedFrom   []string              `yaml:"renamed_from,omitempty" json:"renamed_from,omitempty"` // former names: registered webhooks on them follow this form
}

// CalloutFields maps the standard callout data (design §5) to field names of a form.
type CalloutFields struct {
	ID                   string `yaml:"id,omitempty" json:"id,omitempty"`
	Number               string `yaml:"number,omitempty" json:"number,omitempty"`
	Status               string `yaml:"status,omitempty" json:"status,omitempty"`
	CreatedDatetime      string `yaml:"created_datetime,omitempty" json:"created_datetime,omitempty"`
	LastActivityDatetime string `yaml:"last_activity_datetime,omitempty" json:"last_activity_datetime,omitempty"`
}

// Format is the wire encoding of a callout.
type Format string

// The callout formats (design §5).
const (
	FormatNameValue Format = "name-value"
	FormatSOAP      Format = "soap"
	FormatXMLRPC    Format = "xmlrpc"
	FormatJSON      Format = "json"
)

// Callout is an outbound HTTP call definition (an Autotask extension callout, or the
// callback of an AR webhook).
type Callout struct {
	Name          string     `yaml:"name" json:"name"`
	Active        *bool      `yaml:"active,omitempty" json:"active,omitempty"` // default true
	URL           string     `yaml:"url" json:"url"`
	Method        string     `yaml:"method,omitempty" json:"method,omitempty"` // GET | POST (default)
	Format        Format     `yaml:"format" json:"format"`
	MethodName    string     `yaml:"method_name,omitempty" json:"method_name,omitempty"`
	SOAPAction    string     `yaml:"soap_action,omitempty" json:"soap_action,omitempty"`
	Username      string     `yaml:"username,omitempty" json:"username,omitempty"`
	Password      Secret     `yaml:"password,omitempty" json:"password,omitempty"`
	UDF           string     `yaml:"udf,omitempty" json:"udf,omitempty"`
	Timeout       Duration   `yaml:"timeout,omitempty" json:"timeout,omitempty"` // default 20s
	Retry         Retry      `yaml:"retry,omitempty" json:"retry,omitempty"`
	Headers       Headers    `yaml:"headers,omitempty" json:"headers,omitempty"`
	SecretHeaders []string   `yaml:"-" json:"secret_headers,omitempty"` // names of the headers written {value, secret: true}
	SigningSecret Secret     `yaml:"signing_secret,omitempty" json:"signing_secret,omitempty"`
	Notify        *Notify    `yaml:"notify,omitempty" json:"notify,omitempty"`
	EnumFormat    EnumFormat `yaml:"enum_format,omitempty" json:"enum_format,omitempty"` // json: selections as name (default) or value
	Breaker       *Breaker   `yaml:"breaker,omitempty" json:"breaker,omitempty"`         // circuit breaker of its endpoint (breaker.go)
	Rate          Rate       `yaml:"rate,omitempty" json:"rate,omitempty"`               // rate limit: N/s or N/min
	Ordering      Ordering   `yaml:"ordering,omitempty" json:"ordering,omitempty"`       // per_entry: one record's deliveries in order
	// RenamedFrom lists the callout's former names: deliveries still pending under
	// them are attempted, and notified, as this callout's.
	RenamedFrom []string `yaml:"renamed_from,omitempty" json:"renamed_from,omitempty"`

	// PayloadFields and WebhookID are set for the JSON callouts of AR webhooks.
	PayloadFields []string `yaml:"payload_fields,omitempty" json:"payload_fields,omitempty"`
	WebhookID     string   `yaml:"-" json:"webhook_id,omitempty"`
}

// IsActive reports whether the callout may fire (Active unset means true).
func (c *Callout) IsActive() bool { return c.Active == nil || *c.Active }

// Retry is a callout's retry policy. The zero value means every 60 s up to 10 more times.
type Retry struct {
	Interval    Duration `yaml:"interval,omitempty" json:"interval,omitempty"`         // default 60s, at least 1s
	Max         *int     `yaml:"max,omitempty" json:"max,omitempty"`                   // more attempts after the first; default 10
	Backoff     Backoff  `yaml:"backoff,omitempty" json:"backoff,omitempty"`           // "" / "fixed" or "exponential"
	MaxInterval Duration `yaml:"max_interval,omitempty" json:"max_interval,omitempty"` // upper bound for exponential backoff
}

// Notify names who is e-mailed when a callout's delivery ends.
type Notify struct {
	To           []string `yaml:"to" json:"to"`
	FailuresOnly bool     `yaml:"failures_only,omitempty" json:"failures_only,omitempty"`
	Subject      string   `yaml:"subject,omitempty" json:"subject,omitempty"`               // text/template
	Body         string   `yaml:"body,omitempty" json:"body,omitempty"`                     // text/template
	SubjectFile  string   `yaml:"subject_file,omitempty" json:"subject_file,omitempty"`     // template file, relative to the config
	BodyFile     string   `yaml:"body_file,omitempty" json:"body_file,omitempty"`           // template file, relative to the config
	HTMLBodyFile string   `yaml:"html_body_file,omitempty" json:"html_body_file,omitempty"` // html/template file
}

// Rule fires callouts when an event of one of its kinds on its form satisfies its condition.
type Rule struct {
	Name      string   `yaml:"name" json:"name"`
	Active    *bool    `yaml:"active,omitempty" json:"active,omitempty"` // default true
	Form      string   `yaml:"form" json:"form"`
	Events    []Kind   `yaml:"events" json:"events"`
	Condition string   `yaml:"condition,omitempty" json:"condition,omitempty"` // empty: always
	Nulls     string   `yaml:"nulls,omitempty" json:"nulls,omitempty"`         // overrides Config.Nulls
	Callouts  []string `yaml:"callouts,omitempty" json:"callouts"`
	// Set, Reject, Notify and Order are the rule's actions besides callouts and its
	// execution order (see actions.go).
	Set    map[string]string `yaml:"set,omitempty" json:"set,omitempty"`       // field → AR value expression
	Reject string            `yaml:"reject,omitempty" json:"reject,omitempty"` // refuse the save with this message
	Notify *Notify           `yaml:"notify,omitempty" json:"notify,omitempty"` // e-mail on every firing
	Order  *int              `yaml:"order,omitempty" json:"order,omitempty"`   // 0 to 1000, default 500
	// At and Repeat make a time rule (events: [time]) due at a field's value plus an
	// offset, optionally again while the condition holds (see timerules.go).
	At     *At     `yaml:"at,omitempty" json:"at,omitempty"`
	Repeat *Repeat `yaml:"repeat,omitempty" json:"repeat,omitempty"`

	// Program is Condition compiled against the form's schema; nil when Condition is empty.
	Program *qualification.Program `yaml:"-" json:"-"`
	// Targets are the callouts named by Callouts, resolved, in the same order.
	Targets []*Callout `yaml:"-" json:"-"`
	// Webhook is set when the rule was made from an AR webhook.
	Webhook *Webhook `yaml:"-" json:"-"`
	// SetFields are the Set expressions compiled against the form, in file order.
	SetFields []SetField `yaml:"-" json:"-"`
}

// IsActive reports whether the rule may fire (Active unset means true).
func (r *Rule) IsActive() bool { return r.Active == nil || *r.Active }

// Webhook is an AR System webhook registration: (form, events, condition) → a JSON
// callout of payload_fields to the callback.
type Webhook struct {
	WebhookID     string          `yaml:"webhook_id" json:"webhook_id"`
	Description   string          `yaml:"description,omitempty" json:"description,omitempty"`
	FormName      string          `yaml:"form_name" json:"form_name"`
	Condition     string          `yaml:"condition,omitempty" json:"condition,omitempty"`
	EntryEvents   []Kind          `yaml:"entry_events" json:"entry_events"`
	PayloadFields []string        `yaml:"payload_fields,omitempty" json:"payload_fields,omitempty"`
	Enabled       *bool           `yaml:"enabled,omitempty" json:"enabled,omitempty"` // default true
	Callback      WebhookCallback `yaml:"callback" json:"callback"`
	EnumFormat    EnumFormat      `yaml:"enum_format,omitempty" json:"enum_format,omitempty"` // selections as value (default, as AR sends) or name
}

// IsEnabled reports whether the webhook may fire (Enabled unset means true).
func (w *Webhook) IsEnabled() bool { return w.Enabled == nil || *w.Enabled }

// WebhookCallback is where an AR webhook posts, and how it authenticates.
type WebhookCallback struct {
	URL            string                `yaml:"url" json:"url"`
	Authentication WebhookAuthentication `yaml:"authentication,omitempty" json:"authentication,omitempty"`
	Headers        Headers               `yaml:"headers,omitempty" json:"headers,omitempty"`
	SecretHeaders  []string              `yaml:"-" json:"secret_headers,omitempty"` // names of the headers written {value, secret: true}
}

// WebhookAuthentication is the callback's authentication: type none or basic.
type WebhookAuthentication struct {
	Type     string `yaml:"type,omitempty" json:"type,omitempty"`
	Username string `yaml:"username,omitempty" json:"username,omitempty"`
	Password Secret `yaml:"password,omitempty" json:"password,omitempty"`
}

// CallbackFunction is a ServiceDesk Plus–style inbound function: an API name with
// typed parameters that external systems call to raise a callback event.
type CallbackFunction struct {
	APIName     string            `yaml:"api_name" json:"api_name"`
	Description string            `yaml:"description,omitempty" json:"description,omitempty"`
	Published   bool              `yaml:"published,omitempty" json:"published"`
	Parameters  map[string]string `yaml:"parameters,omitempty" json:"parameters,omitempty"` // name → string|int|float|bool|date|map
	// CalloutFields maps the standard callout data to arguments (see inbound.go).
	CalloutFields CalloutFields `yaml:"callout_fields,omitempty" json:"callout_fields,omitempty"`
	// Condition and Callouts are what a call does besides the rules that name the
	// function (see callbackfunctions.go): when Condition holds for the arguments
	// (empty: always) the named callouts fire.
	Condition string   `yaml:"condition,omitempty" json:"condition,omitempty"`
	Callouts  []string `yaml:"callouts,omitempty" json:"callouts,omitempty"`
}

// TargetURL is a Freshworks-style external-event target: a unique URL per installation.
type TargetURL struct {
	Name      string         `yaml:"name" json:"name"`
	AccountID string         `yaml:"account_id,omitempty" json:"account_id,omitempty"`
	Domain    string         `yaml:"domain,omitempty" json:"domain,omitempty"`
	Region    string         `yaml:"region,omitempty" json:"region,omitempty"`
	Iparams   map[string]any `yaml:"iparams,omitempty" json:"iparams,omitempty"`
	// CalloutFields maps the standard callout data to payload paths such as
	// data.issue.id (see inbound.go).
	CalloutFields CalloutFields `yaml:"callout_fields,omitempty" json:"callout_fields,omitempty"`
	// PublicURL, Register and Deregister register each installation's URL in the
	// external product and remove it again (see registration.go).
	PublicURL  string      `yaml:"public_url,omitempty" json:"public_url,omitempty"`
	Register   *TargetCall `yaml:"register,omitempty" json:"register,omitempty"`
	Deregister *TargetCall `yaml:"deregister,omitempty" json:"deregister,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("60s", "1m30s").
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String returns d in Go duration syntax.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes d in Go duration syntax.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses Go duration syntax.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Secret is a password or key from the configuration: plain, `${ENV}`-expanded, or
// encrypted as `enc:v1:...`. It never prints: String, MarshalJSON and LogValue all
// give "********". Reveal returns the stored text for code that must use it.
type Secret string

// Masked is how every secret is shown.
const Masked = "********"

// String returns the mask, so a Secret never leaks through fmt.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Masked
}

// GoString returns the mask, so %#v does not leak the secret either.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalJSON writes the mask.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// Reveal returns the secret as stored (possibly still in `enc:v1:` form).
func (s Secret) Reveal() string { return string(s) }
