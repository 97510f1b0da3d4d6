package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/ruleflow/ruleflow/callouts/egress"
	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// NoteAdder is implemented by a host that can add a note to a ticket. When a
// notification e-mail has been sent, the engine adds the same text as a note.
//
// A NoteAdder whose notes can be switched off (by a configuration reload, say) also
// implements NotesEnabler; while NotesEnabled reports false no note is queued.
type NoteAdder interface {
	AddNote(ctx context.Context, form, entryID, text string) error
}

// NotesEnabler is the optional second method of a NoteAdder.
type NotesEnabler interface {
	NotesEnabled() bool
}

// Mailer sends one notification e-mail. *notify.Mailer implements it; tests and
// hosts may supply their own.
type Mailer interface {
	Send(ctx context.Context, msg Message) error
}

// Options configure an Engine. Config is required; every other field has a default.
type Options struct {
	// Config is the loaded rule configuration.
	Config *rules.Config
	// Store is the outbox DSN: "sqlite:PATH" (the default for a single node) or
	// "postgres://..." (several nodes). Empty means no outbox: Handle decides and
	// renders but stores and delivers nothing (a dry run).
	Store string
	// Notes, if set, receives a note for every notification e-mail sent.
	Notes NoteAdder
	// Mailer sends notification e-mails; nil means SMTP as the config's smtp block says.
	Mailer Mailer
	// Key decrypts `enc:v1:` secrets. Nil means RULEFLOW_KEY, else the key file
	// beside the SQLite store (or KeyFile), created on first use.
	Key *rules.Key
	// KeyFile overrides where the key file is looked for when RULEFLOW_KEY is unset.
	KeyFile string
	// Logger receives the engine's logs; nil means slog.Default().
	Logger *slog.Logger
	// HTTPClient sends callouts; nil means a tuned client with connection reuse
	// whose every connection is vetted by the egress guard (the configuration's
	// egress block). A client given here bypasses the guard.
	HTTPClient *http.Client
	// Resolver looks up the host names of outbound requests for the egress guard;
	// nil means the system resolver. Tests inject one so no lookup leaves the process.
	Resolver egress.Resolver
	// Workers is how many deliveries run at once on this node; 0 means 32.
	Workers int
	// Lease is a job's lease beyond the time limit of its attempt (the callout's
	// timeout in force, the SMTP connect + send timeouts for an e-mail); 0 means 30 s.
	// A node that dies loses its claims after the attempt's limit plus Lease. An
	// attempt never outlives its lease: a longer one extends it before it starts.
	Lease time.Duration
	// PollInterval is how often an idle dispatcher looks for due work written by
	// other nodes; 0 means 1 s. Work enqueued by this node is picked up at once.
	PollInterval time.Duration
	// NoDispatch makes Handle enqueue without this engine delivering anything.
	NoDispatch bool
	// ShutdownTimeout bounds how long Close waits for deliveries in flight; 0 means 30 s.
	// Shutdown takes its deadline from its context instead.
	ShutdownTimeout time.Duration
	// Registerer, if set, receives the engine's Prometheus metrics.
	Registerer prometheus.Registerer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NodeID names this engine as a lease owner; empty means host name + process ID + a random suffix.
	NodeID string
	// Lookup, if set, gives the values a time-based rule is evaluated on when its
	// timer falls due; nil means the snapshot the engine kept from the last save.
	Lookup RecordLookup
	// NoTimers makes this engine arm timers on Handle without firing any (another
	// node fires them).
	NoTimers bool
	// TracerProvider, if set, receives the engine's OpenTelemetry spans (see
	// telemetry.go) instead of the OTLP exporter the configuration's telemetry
	// block would make. Nil and no telemetry block means no tracing.
	TracerProvider trace.TracerProvider
}

// Engine evaluates events against the rules and delivers what they fire. It is safe
// for concurrent use.
type Engine struct {
	cfg atomic.Pointer[configState]
	// overrides are the management API's active flags, as last read from the store.
	overrides atomic.Pointer[overrideSet]
	fires     fireCounter // rule firings not yet written to the store (rulestats.go)
	store     *store.Store
	opts      Options
	log       *slog.Logger
	key       *rules.Key
	metrics   *metrics
	now       func() time.Time
	limits    *limits      // circuit breakers and rate limits (breaker.go)
	client    *http.Client // sends callouts: Options.HTTPClient or the egress-guarded default

	disp      *dispatcher
	stateMu   sync.Mutex // serialises changes of cfg
	stopWatch func()     // stops the registry watch (webhooks.go)
	stopPurge func()     // stops the background history purge (history.go)
	tr        *tracing   // OpenTelemetry tracing; nil when off (telemetry.go)
	closeOnce sync.Once
	closeErr  error
	closed    atomic.Bool // set when Close starts; Handle then fails with ErrClosed
	timerState
}

// ErrClosed is returned by Handle after Close.
var ErrClosed = errors.New("engine: closed")

// Open starts an engine. The caller must Shutdown (or Close) it.
func Open(ctx context.Context, opts Options) (_ *Engine, err error) {
	if opts.Config == nil {
		return nil, errors.New("engine: open: no configuration")
	}
	e := &Engine{opts: opts, log: opts.Logger, now: opts.Now}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.now == nil {
		e.now = time.Now
	}
	e.metrics = newMetrics(opts.Registerer)
	e.limits = newLimits(e, opts.Registerer)
	e.client = e.newHTTPClient()
	if e.tr, err = newTracing(ctx, opts.TracerProvider, opts.Config.Telemetry); err != nil {
		return nil, err
	}
	if e.tr != nil {
		e.client = e.tr.tracedClient(e.client)
	}
	if opts.Store != "" {
		st, err := store.OpenOptions(ctx, opts.Store, store.Options{Logger: e.log, OnBreaker: e.breakerChanged})
		if err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
		e.store = st
		defer func() { // one cleanup for every failure below
			if err != nil {
				st.Close()
			}
		}()
	}
	e.key = opts.Key
	if e.key == nil && e.store != nil { // a dry run decrypts nothing and creates no key file
		key, err := rules.LoadKey(e.keyFile())
		if err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
		e.key = key
	}
	state, err := e.newState(opts.Config, nil, nil, 0)
	if err != nil {
		return nil, err
	}
	e.cfg.Store(state)
	if e.store != nil {
		if err := e.store.SkipWebhookIDs(ctx, highestWebhookNumber(opts.Config)); err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
		if err := e.RefreshWebhooks(ctx); err != nil {
			return nil, err
		}
		e.startWatch()
		e.fires.start(e)
		e.stopPurge = e.startHistoryPurge()
	}
	if e.store != nil && !opts.NoDispatch {
		e.disp = newDispatcher(e)
		e.disp.start()
	}
	e.startTimers()
	return e, nil
}

// keyFile is where the secrets key lives when RULEFLOW_KEY is unset: beside the
// SQLite store (ruleflow.db.key). On PostgreSQL there is none: the nodes sharing the
// database must share the key, so it has to come from RULEFLOW_KEY.
func (e *Engine) keyFile() string {
	if e.opts.KeyFile != "" {
		return e.opts.KeyFile
	}
	if d, err := store.ParseDSN(e.opts.Store); err == nil {
		return d.KeyFile()
	}
	return ""
}

// Config returns the configuration in force.
func (e *Engine) Config() *rules.Config { return e.cfg.Load().cfg }

// Store returns the engine's outbox, or nil when it runs without one.
func (e *Engine) Store() *store.Store { return e.store }

// Key returns the key that decrypts secrets.
func (e *Engine) Key() *rules.Key { return e.key }

// Reload makes cfg the configuration for every event handled from now on. Events in
// flight finish on the configuration they started with; deliveries already in the
// outbox keep their rendered requests and use the new configuration's credentials,
// timeout and notification settings for their remaining attempts.
func (e *Engine) Reload(cfg *rules.Config) error {
	e.stateMu.Lock()
	defer e.stateMu.Unlock()
	old := e.cfg.Load()
	state, err := e.newState(cfg, old.stored, old.storedCallbacks, old.revision)
	if err != nil {
		return err
	}
	e.warnTelemetryReload(old.cfg, cfg) // telemetry.go
	e.cfg.Store(state)
	return nil
}

// Shutdown shuts the engine down gracefully, like http.Server's Shutdown: Handle
// fails with ErrClosed from now on, the dispatcher stops claiming work, and the
// deliveries in flight run to their outcome until ctx is done. Then the attempts
// still running are cut off (each is recorded as an attempt and its job is due
// again), the leases this node holds are released so other nodes can take them at
// once, and the store is closed. It returns ctx.Err() when attempts were cut off,
// else the store's close error. Later calls return the first call's result.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.closeOnce.Do(func() {
		e.closed.Store(true)
		if e.stopWatch != nil {
			e.stopWatch()
		}
		e.stopTimers()
		if e.stopPurge != nil {
			e.stopPurge()
		}
		var cutOff error
		if e.disp != nil && e.disp.stop(ctx) {
			cutOff = ctx.Err()
		}
		e.fires.stop(e) // writes the last firings counted
		if e.store != nil {
			e.closeErr = e.store.Close()
		}
		if cutOff != nil {
			e.closeErr = cutOff
		}
		if e.tr != nil && e.tr.shutdown != nil {
			e.tr.shutdown(ctx) // flushes the spans still batched
		}
	})
	return e.closeErr
}

// Close is Shutdown with a deadline of Options.ShutdownTimeout (30 s by default),
// for callers without a context of their own.
func (e *Engine) Close() error {
	timeout := e.opts.ShutdownTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return e.Shutdown(ctx)
}

// Wake tells the dispatcher that work may be due now (after a manual retry, say).
func (e *Engine) Wake() {
	if e.disp != nil {
		e.disp.wake()
	}
}

func hostName() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "node"
	}
	return h
}
