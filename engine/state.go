package engine

import (
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/ruleflow/ruleflow/callouts"
	"github.com/ruleflow/ruleflow/callouts/egress"
	"github.com/ruleflow/ruleflow/notify"
	"github.com/ruleflow/ruleflow/rules"
)

// Message is a rendered notification e-mail.
type Message = notify.Message

// configState is a configuration with what the engine derives from it once per
// load: callouts by name (webhook callouts included) and parsed notification
// templates. It is immutable.
type configState struct {
	base       *rules.Config    // the configuration file
	stored     []*rules.Webhook // webhooks registered through the API, from the store
	revision   int64            // the store registry revision stored was read at
	cfg        *rules.Config    // base with the stored webhooks added
	callouts   map[string]*rules.Callout
	encoders   *callouts.Encoders        // cfg's callouts compiled for rendering
	renamed    map[string]*rules.Callout // a callout by each of its renamed_from names
	templates  map[string]*notify.Templates
	mailer     Mailer
	maxTimeout time.Duration // the longest callout timeout
	mailLimit  time.Duration // the longest a notification e-mail may take
	orphaned   int           // stored webhooks whose form base does not declare

	// endpoints holds rules.Endpoint of each callout's URL, parsed once per load
	// rather than twice per attempt (the breaker checks, breaker.go).
	endpoints map[*rules.Callout]string

	egress      *egress.Policy  // the guard's policy, from cfg.Egress
	apiWebhooks map[string]bool // IDs of the webhooks registered through the API
	histRules   sync.Map        // form + "\x00" + kind → *ruleList the history refers to (history.go)

	// storedCallbacks are the callback functions created through the API, from the
	// store; refusedCallbacks says why cfg leaves some of them out (by api_name).
	storedCallbacks  []*rules.CallbackFunction
	refusedCallbacks map[string]string
}

// callout returns the callout named name, or the one renamed from it, or nil.
func (s *configState) callout(name string) *rules.Callout {
	if c, ok := s.callouts[name]; ok {
		return c
	}
	return s.renamed[name]
}

// endpoint is rules.Endpoint(c.URL), from the copy parsed at load when c is one
// of this state's callouts.
func (s *configState) endpoint(c *rules.Callout) string {
	if ep, ok := s.endpoints[c]; ok {
		return ep
	}
	return rules.Endpoint(c.URL)
}

// configDir is the directory a configuration's relative paths start from.
func configDir(s *configState) string {
	if s.cfg.File != "" {
		return filepath.Dir(s.cfg.File)
	}
	return "."
}

func (e *Engine) newState(base *rules.Config, stored []*rules.Webhook, fns []*rules.CallbackFunction, revision int64) (*configState, error) {
	effective := followFormRenames(base, stored)
	cfg, err := withStoredWebhooks(base, effective, e.log)
	if err != nil {
		return nil, err
	}
	cfg, refused, err := withStoredCallbackFunctions(base, cfg, fns, e.log)
	if err != nil {
		return nil, err
	}
	cfg = e.applyOverrides(cfg)
	s := &configState{
		base:      base,
		stored:    stored,
		revision:  revision,
		cfg:       cfg,
		callouts:  make(map[string]*rules.Callout),
		encoders:  callouts.Compile(cfg),
		renamed:   make(map[string]*rules.Callout),
		templates: make(map[string]*notify.Templates),
		orphaned:  logOrphans(base, effective, e.log),
	}
	e.metrics.setOrphaned(s.orphaned)
	s.storedCallbacks, s.refusedCallbacks = fns, refused
	s.egress, s.apiWebhooks = egressPolicy(cfg), apiWebhookIDs(stored)
	add := func(c *rules.Callout) {
		if _, ok := s.callouts[c.Name]; !ok {
			s.callouts[c.Name] = c
		}
	}
	for _, c := range cfg.Callouts {
		add(c)
	}
	for _, r := range cfg.AllRules() {
		for _, c := range r.Targets {
			add(c)
		}
	}
	for _, c := range s.callouts {
		for _, old := range c.RenamedFrom {
			if _, taken := s.callouts[old]; !taken {
				s.renamed[old] = c
			}
		}
	}
	s.mailLimit = mailLimit(s)
	s.maxTimeout = targetCallsTimeout(cfg) // raised below by the callouts'
	baseDir := configDir(s)
	s.endpoints = make(map[*rules.Callout]string, len(s.callouts))
	for name, c := range s.callouts {
		s.maxTimeout = max(s.maxTimeout, timeoutOf(c))
		s.endpoints[c] = rules.Endpoint(c.URL)
		if c.Notify == nil {
			continue
		}
		t, err := notify.NewTemplates(cfg.StaticRecipients(c.Notify), baseDir)
		if err != nil {
			return nil, fmt.Errorf("engine: callout %q: %w", name, err)
		}
		s.templates[name] = t
	}
	s.mailer = e.opts.Mailer
	if s.mailer == nil && cfg.SMTP != nil && e.store != nil {
		password, err := cfg.SMTP.Password.Value(e.key)
		if err != nil {
			return nil, fmt.Errorf("engine: smtp password: %w", err)
		}
		m := notify.NewMailer(cfg.SMTP, password)
		m.Logger, m.Now = e.log, e.now // the engine's logs and clock, not slog.Default
		s.mailer = m
	}
	return s, nil
}

func timeoutOf(c *rules.Callout) time.Duration {
	if t := c.Timeout.Std(); t > 0 {
		return t
	}
	return callouts.DefaultTimeout
}
