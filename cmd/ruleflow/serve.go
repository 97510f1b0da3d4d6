package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/engine/httpapi"
	"github.com/ruleflow/ruleflow/rules"
)

// serveOptions are the flags of `ruleflow serve`.
type serveOptions struct {
	config          string
	store           string
	keyFile         string
	listen          string
	insecureNoAuth  bool
	shutdownTimeout time.Duration
	logFormat       string
}

// serveHooks let tests observe a running server; the zero value does nothing.
type serveHooks struct {
	// started is called once the server listens, before it waits for signals.
	started func(*server)
}

func newServeCommand() *cobra.Command { return newServeCommandWith(serveHooks{}) }

func newServeCommandWith(hooks serveHooks) *cobra.Command {
	opts := serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve --config FILE [--store DSN] [--listen ADDR]",
		Short: "Run the engine as an HTTP service",
		Long: `Serve runs the rule engine as a service for ticketing systems not written in Go:
the HTTP API of design §8 (events, AR System webhook registration, callback
functions, external-event target URLs, deliveries, /metrics, /healthz), and the
dispatcher that delivers the outbox.

The admin token is read from RULEFLOW_ADMIN_TOKEN; without it serve refuses to
start unless --insecure-no-auth is given (admin endpoints then need no token —
for a loopback development server only: with --insecure-no-auth, --listen must be
localhost, 127.x.x.x or [::1]; ":8080" listens on every interface and is refused).

At start, and after every reload, callback functions marked published: true and
target_urls that have no token yet get one. Their URL and token are printed to
standard output once — never logged, and only their hash is stored.

Signals: SIGTERM or SIGINT stop accepting requests, finish those in flight and the
deliveries under way (up to --shutdown-timeout), and exit 0. SIGHUP reloads the
configuration file; if it is invalid the old one stays and the errors are logged.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return runServe(ctx, opts, cmd.OutOrStdout(), cmd.ErrOrStderr(), hooks)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.config, "config", "", "configuration file (required)")
	f.StringVar(&opts.store, "store", defaultStore, "outbox DSN: sqlite:PATH or postgres://...")
	f.StringVar(&opts.keyFile, "key-file", "", "secrets key file when RULEFLOW_KEY is unset (default: beside the SQLite store)")
	f.StringVar(&opts.listen, "listen", "127.0.0.1:8080", "address to listen on")
	f.BoolVar(&opts.insecureNoAuth, "insecure-no-auth", false, "allow admin endpoints without a token when RULEFLOW_ADMIN_TOKEN is unset")
	f.DurationVar(&opts.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long to wait for requests and deliveries in flight on shutdown")
	f.StringVar(&opts.logFormat, "log-format", "text", "log format on standard error: text or json")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// server is a running `ruleflow serve`.
type server struct {
	opts    serveOptions
	log     *slog.Logger
	stdout  io.Writer
	eng     *engine.Engine
	api     *httpapi.Handler
	http    *http.Server
	ln      net.Listener
	base    string
	served  chan error
	reloadM sync.Mutex
}

// runServe starts the server, waits for a signal or for ctx to end, and shuts down.
func runServe(ctx context.Context, opts serveOptions, stdout, stderr io.Writer, hooks serveHooks) error {
	var logHandler slog.Handler
	switch opts.logFormat {
	case "text", "":
		logHandler = slog.NewTextHandler(stderr, nil)
	case "json":
		logHandler = slog.NewJSONHandler(stderr, nil)
	default:
		return fmt.Errorf("--log-format %q: want text or json", opts.logFormat)
	}
	log := slog.New(logHandler)

	adminToken := os.Getenv("RULEFLOW_ADMIN_TOKEN")
	if adminToken == "" && !opts.insecureNoAuth {
		return errors.New("RULEFLOW_ADMIN_TOKEN is not set: set it to the admin token, or pass --insecure-no-auth to run the admin API without authentication")
	}
	if opts.insecureNoAuth {
		if err := checkInsecureListen(opts.listen); err != nil {
			return err
		}
	}
	if adminToken == "" {
		log.Warn("serve: admin endpoints are open to anyone (--insecure-no-auth)")
	}

	// Trap signals before anything starts, so a signal during start-up is not fatal.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)

	s, err := startServer(ctx, opts, adminToken, log, stdout)
	if err != nil {
		return err
	}
	if hooks.started != nil {
		hooks.started(s)
	}
	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				if err := s.reload(ctx); err != nil {
					log.Error("serve: reload failed; keeping the previous configuration", "error", err)
				}
				continue
			}
			log.Info("serve: shutting down", "signal", sig.String())
			return s.shutdown()
		case <-ctx.Done():
			log.Info("serve: shutting down", "reason", context.Cause(ctx).Error())
			return s.shutdown()
		case err := <-s.served:
			s.shutdown()
			return fmt.Errorf("serve: %w", err)
		}
	}
}

// startServer loads the configuration, opens the engine, builds the API, gives
// the configuration's inbound endpoints their tokens and starts listening.
func startServer(ctx context.Context, opts serveOptions, adminToken string, log *slog.Logger, stdout io.Writer) (*server, error) {
	cfg, err := rules.Load(opts.config)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	s := &server{opts: opts, log: log, stdout: stdout, served: make(chan error, 1)}
	notes := &configNotes{}
	lookup := &configLookup{}
	s.eng, err = engine.Open(ctx, engine.Options{
		Config:          cfg,
		Store:           opts.store,
		KeyFile:         opts.keyFile,
		Notes:           notes,
		Lookup:          lookup,
		Logger:          log,
		Registerer:      reg,
		ShutdownTimeout: opts.shutdownTimeout,
	})
	if err != nil {
		return nil, err
	}
	notes.client = notesClient(s.eng)
	notes.eng.Store(s.eng)
	lookup.client = s.eng.HTTPClient()
	lookup.eng.Store(s.eng)
	s.api, err = httpapi.New(httpapi.Options{
		Engine:         s.eng,
		AdminToken:     adminToken,
		InsecureNoAuth: opts.insecureNoAuth,
		Logger:         log,
		Registerer:     reg,
		Gatherer:       reg,
	})
	if err != nil {
		s.eng.Close()
		return nil, err
	}
	s.ln, err = net.Listen("tcp", opts.listen)
	if err != nil {
		s.eng.Close()
		return nil, err
	}
	s.base = "http://" + s.ln.Addr().String()
	if err := s.api.Bootstrap(ctx, stdout, s.base); err != nil {
		s.ln.Close()
		s.eng.Close()
		return nil, err
	}
	s.http = &http.Server{
		Handler:           s.api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := s.http.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.served <- err
		}
	}()
	log.Info("serve: listening", "addr", s.ln.Addr().String(), "config", opts.config, "rules", cfg.Summary())
	fmt.Fprintf(stdout, "ruleflow: serving on %s\n", s.base)
	return s, nil
}

// reload re-reads the configuration file and makes it the one in force, then gives
// new callback functions and targets their tokens. If the file is invalid, the
// configuration in force stays and the error is returned.
func (s *server) reload(ctx context.Context) error {
	s.reloadM.Lock()
	defer s.reloadM.Unlock()
	cfg, err := rules.Load(s.opts.config)
	if err != nil {
		return err
	}
	if err := s.eng.Reload(cfg); err != nil {
		return err
	}
	s.log.Info("serve: configuration reloaded", "config", s.opts.config, "rules", cfg.Summary())
	if err := s.api.Bootstrap(ctx, s.stdout, s.base); err != nil {
		// The new configuration is in force; only some new tokens are missing.
		s.log.Error("serve: creating tokens for new callback functions or targets failed", "error", err)
	}
	return nil
}

// shutdown stops accepting connections, waits for the requests in flight, then
// closes the engine (which finishes the deliveries under way), each within the
// shutdown timeout.
func (s *server) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.shutdownTimeout)
	defer cancel()
	err := s.http.Shutdown(ctx)
	if err != nil {
		s.log.Warn("serve: requests still in flight at the deadline were cut", "error", err)
		s.http.Close()
	}
	// The engine gets its own deadline of the same length: the requests above may
	// have used up the first.
	ectx, ecancel := context.WithTimeout(context.Background(), s.opts.shutdownTimeout)
	defer ecancel()
	if cerr := s.eng.Shutdown(ectx); errors.Is(cerr, context.DeadlineExceeded) {
		// Each attempt cut off is recorded and its job is due again: nothing is lost.
		s.log.Warn("serve: deliveries still in flight at the deadline were cut off and will be retried", "timeout", s.opts.shutdownTimeout)
	} else if cerr != nil {
		return fmt.Errorf("serve: close engine: %w", cerr)
	}
	s.log.Info("serve: stopped")
	return nil
}

// notesClient is the client of the notes forwarder: the engine's, so the egress
// guard vets the notes endpoint as it does the callouts (no redirects followed, no
// proxy from the environment), with a 30 s bound on each note.
func notesClient(eng *engine.Engine) *http.Client {
	c := *eng.HTTPClient()
	c.Timeout = 30 * time.Second
	return &c
}

// configNotes forwards notes to the `notes:` endpoint of the configuration in
// force, so a reload that changes it takes effect for the next note.
type configNotes struct {
	eng    atomic.Pointer[engine.Engine] // set once the engine is open
	client *http.Client
}

// NotesEnabled reports whether the configuration in force has a notes endpoint;
// without one the engine queues no notes.
func (n *configNotes) NotesEnabled() bool {
	eng := n.eng.Load()
	if eng == nil {
		return false
	}
	ep := eng.Config().Notes
	return ep != nil && ep.URL != ""
}

// AddNote forwards one note, or does nothing when the configuration has no notes
// endpoint.
func (n *configNotes) AddNote(ctx context.Context, form, entryID, text string) error {
	eng := n.eng.Load()
	if eng == nil {
		return errors.New("notes: engine not started")
	}
	ep := eng.Config().Notes
	if ep == nil || ep.URL == "" {
		return nil
	}
	return httpapi.NewNotesForwarder(ep, eng.Key(), n.client).AddNote(ctx, form, entryID, text)
}
