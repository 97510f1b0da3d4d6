package httpapi

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ruleflow/ruleflow/callouts/egress"
	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// Backend is everything the API needs of the engine, and the only way a handler
// reaches it: the configuration, event handling, the webhooks the engine keeps in
// sync with the store, and the durable records (deliveries, callback tokens, target
// URLs) through Records. New wraps the *engine.Engine of Options in one.
type Backend interface {
	Config() *rules.Config
	EgressPolicy() *egress.Policy
	HandleBatch(ctx context.Context, evs []*rules.Event) ([]*engine.Result, error)
	Wake()
	NewQueueCollector() prometheus.Collector
	// History returns the event history f selects, newest first (history.go).
	History(ctx context.Context, f store.HistoryFilter) ([]engine.HistoryEntry, error)

	CreateWebhook(ctx context.Context, w *rules.Webhook) (*rules.Webhook, error)
	UpdateWebhook(ctx context.Context, w *rules.Webhook) error
	DeleteWebhook(ctx context.Context, id string) error
	Webhook(ctx context.Context, id string) (*rules.Webhook, error)
	Webhooks(ctx context.Context) ([]*rules.Webhook, error)
	// WebhookOrphaned reports whether a registered webhook names a form the
	// configuration no longer declares.
	WebhookOrphaned(w *rules.Webhook) bool

	// The management API (management.go): the configuration file's callouts and
	// rules with their active flags in force, and callout tests.
	Callouts(ctx context.Context) ([]engine.CalloutInfo, error)
	SetCalloutActive(ctx context.Context, name string, active bool) (engine.CalloutInfo, error)
	Rules(ctx context.Context) ([]engine.RuleInfo, error)
	SetRuleActive(ctx context.Context, name string, active bool) (engine.RuleInfo, error)
	TestCallout(ctx context.Context, name string, ev *rules.Event, send bool) (*engine.CalloutTest, error)
	// Callback functions: the file's (read-only) and those created through the
	// API, which the engine keeps in sync with the store.
	CreateCallbackFunction(ctx context.Context, f *rules.CallbackFunction, token string) error
	UpdateCallbackFunction(ctx context.Context, f *rules.CallbackFunction) error
	DeleteCallbackFunction(ctx context.Context, apiName string) error
	CallbackFunctions(ctx context.Context) ([]engine.CallbackFunctionInfo, error)
	CallbackFunctionByName(ctx context.Context, apiName string) (engine.CallbackFunctionInfo, error)
	CallbackFunctionReadOnly(apiName string) bool

	// CreateTarget and RevokeTarget create and revoke an installation of a target
	// URL with its register and deregister calls (see engine.Engine.CreateTarget).
	CreateTarget(ctx context.Context, tg store.Target, targetURL string) (store.Target, error)
	RevokeTarget(ctx context.Context, id string) error

	// Records is the durable state the API reads and writes, or nil when the
	// engine runs without a store.
	Records() Records
}

// Records is the part of the store the API reads and writes. *store.Store
// implements it.
type Records interface {
	Ping(ctx context.Context) error

	List(ctx context.Context, f store.Filter) ([]store.Job, error)
	Get(ctx context.Context, id string) (store.Job, []store.Attempt, error)
	Retry(ctx context.Context, id string, now time.Time) error
	CountMatching(ctx context.Context, f store.RetryFilter) (int64, error)
	RetryMatching(ctx context.Context, f store.RetryFilter, now time.Time) (int64, error)

	ListCallbackTokens(ctx context.Context) ([]store.CallbackToken, error)
	GetCallbackToken(ctx context.Context, apiName string) (store.CallbackToken, error)
	PutCallbackToken(ctx context.Context, ct store.CallbackToken, now time.Time) (store.CallbackToken, error)
	AddCallbackToken(ctx context.Context, ct store.CallbackToken, now time.Time) (bool, error)
	PutCallbackTokens(ctx context.Context, cts []store.CallbackToken, now time.Time) error

	CreateTarget(ctx context.Context, tg store.Target, now time.Time) (store.Target, error)
	ListTargets(ctx context.Context) ([]store.Target, error)
	RevokeTarget(ctx context.Context, id string, now time.Time) error
	TargetByTokenHash(ctx context.Context, h store.TokenHash) (store.Target, error)
	GetTarget(ctx context.Context, id string) (store.Target, error)
	GetRegistration(ctx context.Context, targetID string) (store.Registration, error)
	ListRegistrations(ctx context.Context) (map[string]store.Registration, error)

	ListTimers(ctx context.Context, f store.TimerFilter) ([]store.Timer, error)
}

// engineBackend is the Backend of an *engine.Engine.
type engineBackend struct{ *engine.Engine }

// Records returns the engine's store, or nil (not a nil *store.Store in an
// interface) when it has none.
func (b engineBackend) Records() Records {
	if st := b.Store(); st != nil {
		return st
	}
	return nil
}
