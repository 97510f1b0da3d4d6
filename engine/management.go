package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// Where the active value of a callout or rule comes from, as the management API
// lists it.
const (
	SourceFile = "file" // the configuration file (active: unset means true)
	SourceAPI  = "api"  // an override set through the management API, kept in the store
)

// overrideSet is the store's overrides, by kind, as last read. It is immutable.
type overrideSet struct {
	callouts map[string]bool
	rules    map[string]bool
}

// loadOverrides reads the overrides from the store into e.overrides; the next
// configuration state built applies them. RefreshWebhooks calls it when the
// registry revision moved, so an override made on any node reaches every node.
func (e *Engine) loadOverrides(ctx context.Context) error {
	list, err := e.store.ListOverrides(ctx)
	if err != nil {
		return fmt.Errorf("engine: overrides: %w", err)
	}
	set := &overrideSet{callouts: map[string]bool{}, rules: map[string]bool{}}
	for _, o := range list {
		switch o.Kind {
		case store.OverrideCallout:
			set.callouts[o.Name] = o.Active
		case store.OverrideRule:
			set.rules[o.Name] = o.Active
		}
	}
	e.overrides.Store(set)
	return nil
}

// applyOverrides returns cfg with the stored overrides' active flags.
func (e *Engine) applyOverrides(cfg *rules.Config) *rules.Config {
	set := e.overrides.Load()
	if set == nil {
		return cfg
	}
	return cfg.WithActive(set.callouts, set.rules)
}

// activeOf returns the active value in force and its source for a name of kind,
// given its value in the file.
func (e *Engine) activeOf(kind store.OverrideKind, name string, file bool) (bool, string) {
	set := e.overrides.Load()
	if set == nil {
		return file, SourceFile
	}
	m := set.callouts
	if kind == store.OverrideRule {
		m = set.rules
	}
	if a, ok := m[name]; ok {
		return a, SourceAPI
	}
	return file, SourceFile
}

// CalloutInfo is a callout of the configuration file as the management API lists
// it. URL is as configured: the API masks it before showing it.
type CalloutInfo struct {
	Name         string
	Format       rules.Format
	Method       string
	URL          string
	Active       bool
	ActiveSource string   // SourceFile or SourceAPI
	Rules        []string // the rules of the file that fire it, in file order
	// Stats counts its deliveries by status and holds the newest one; zero
	// without a store.
	Stats store.CalloutStat
	// Breaker is the circuit breaker of the callout's endpoint, nil when that
	// endpoint has recorded no failure (it is closed).
	Breaker *BreakerState
}

// RuleInfo is a rule of the configuration file as the management API lists it.
type RuleInfo struct {
	Name         string
	Form         string
	Events       []rules.Kind
	Active       bool
	ActiveSource string
	FireCount    int64
	LastFired    time.Time // zero if it never fired (since the store was created)
}

// ErrUnknownName means a callout or rule the configuration file does not declare.
var ErrUnknownName = errors.New("not declared in the configuration file")

// Callouts lists the configuration file's callouts in file order, with the active
// value in force, the rules that use each and its deliveries' counts.
func (e *Engine) Callouts(ctx context.Context) ([]CalloutInfo, error) {
	base := e.cfg.Load().base
	out := make([]CalloutInfo, 0, len(base.Callouts))
	names := make([]string, 0, len(base.Callouts))
	for _, c := range base.Callouts {
		out = append(out, e.calloutInfo(base, c))
		names = append(names, c.Name)
	}
	if e.store == nil {
		return out, nil
	}
	stats, err := e.store.CalloutStats(ctx, names)
	if err != nil {
		return nil, fmt.Errorf("engine: callouts: %w", err)
	}
	for i := range out {
		out[i].Stats = stats[out[i].Name]
	}
	if err := e.addBreakers(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// addBreakers sets the Breaker of each callout whose endpoint has one.
func (e *Engine) addBreakers(ctx context.Context, infos []CalloutInfo) error {
	bs, err := e.Breakers(ctx)
	if err != nil {
		return fmt.Errorf("engine: callouts: %w", err)
	}
	by := make(map[string]*BreakerState, len(bs))
	for i := range bs {
		by[bs[i].Endpoint] = &bs[i]
	}
	for i := range infos {
		infos[i].Breaker = by[rules.Endpoint(infos[i].URL)]
	}
	return nil
}

// Callout returns the configuration file's callout name as Callouts lists it.
func (e *Engine) Callout(ctx context.Context, name string) (CalloutInfo, error) {
	base := e.cfg.Load().base
	c, ok := base.Callout(name)
	if !ok || c.WebhookID != "" {
		return CalloutInfo{}, fmt.Errorf("callout %q: %w", name, ErrUnknownName)
	}
	info := e.calloutInfo(base, c)
	if e.store != nil {
		stats, err := e.store.CalloutStats(ctx, []string{c.Name})
		if err != nil {
			return CalloutInfo{}, fmt.Errorf("engine: callout %q: %w", name, err)
		}
		info.Stats = stats[c.Name]
		one := []CalloutInfo{info}
		if err := e.addBreakers(ctx, one); err != nil {
			return CalloutInfo{}, err
		}
		info = one[0]
	}
	return info, nil
}

func (e *Engine) calloutInfo(base *rules.Config, c *rules.Callout) CalloutInfo {
	method := c.Method
	if method == "" {
		method = "POST"
	}
	info := CalloutInfo{Name: c.Name, Format: c.Format, Method: method, URL: c.URL, Rules: []string{}}
	info.Active, info.ActiveSource = e.activeOf(store.OverrideCallout, c.Name, c.IsActive())
	for _, r := range base.Rules {
		for _, t := range r.Targets {
			if t == c {
				info.Rules = append(info.Rules, r.Name)
				break
			}
		}
	}
	return info
}

// Rules lists the configuration file's rules in file order with the active value
// in force and how often each fired.
func (e *Engine) Rules(ctx context.Context) ([]RuleInfo, error) {
	base := e.cfg.Load().base
	var stats map[string]store.RuleStat
	if e.store != nil {
		var err error
		if stats, err = e.store.RuleStats(ctx); err != nil {
			return nil, fmt.Errorf("engine: rules: %w", err)
		}
	}
	stats = e.fires.withPending(stats)
	out := make([]RuleInfo, 0, len(base.Rules))
	for _, r := range base.Rules {
		out = append(out, e.ruleInfo(r, stats[r.Name]))
	}
	return out, nil
}

// Rule returns the configuration file's rule name as Rules lists it.
func (e *Engine) Rule(ctx context.Context, name string) (RuleInfo, error) {
	r := e.fileRule(name)
	if r == nil {
		return RuleInfo{}, fmt.Errorf("rule %q: %w", name, ErrUnknownName)
	}
	var st store.RuleStat
	if e.store != nil {
		stats, err := e.store.RuleStats(ctx)
		if err != nil {
			return RuleInfo{}, fmt.Errorf("engine: rule %q: %w", name, err)
		}
		st = e.fires.withPending(stats)[name]
	}
	return e.ruleInfo(r, st), nil
}

func (e *Engine) fileRule(name string) *rules.Rule {
	for _, r := range e.cfg.Load().base.Rules {
		if r.Name == name {
			return r
		}
	}
	return nil
}

func (e *Engine) ruleInfo(r *rules.Rule, st store.RuleStat) RuleInfo {
	info := RuleInfo{Name: r.Name, Form: r.Form, Events: r.Events, FireCount: st.FireCount, LastFired: st.LastFired}
	info.Active, info.ActiveSource = e.activeOf(store.OverrideRule, r.Name, r.IsActive())
	return info
}

// SetCalloutActive switches the configuration file's callout name on or off for
// every node on the store, from the next event on, until it is switched again: the
// override outlives restarts and reloads. While a callout is off, the rules that
// name it do not fire it (nothing is enqueued; the event's other callouts fire);
// its deliveries already in the outbox are not touched and are still attempted.
func (e *Engine) SetCalloutActive(ctx context.Context, name string, active bool) (CalloutInfo, error) {
	if c, ok := e.cfg.Load().base.Callout(name); !ok || c.WebhookID != "" {
		return CalloutInfo{}, fmt.Errorf("callout %q: %w", name, ErrUnknownName)
	}
	if err := e.putOverride(ctx, store.OverrideCallout, name, active); err != nil {
		return CalloutInfo{}, err
	}
	return e.Callout(ctx, name)
}

// SetRuleActive switches the configuration file's rule name on or off as
// SetCalloutActive does for a callout. A rule that is off neither fires callouts
// nor sets, rejects or notifies.
func (e *Engine) SetRuleActive(ctx context.Context, name string, active bool) (RuleInfo, error) {
	if e.fileRule(name) == nil {
		return RuleInfo{}, fmt.Errorf("rule %q: %w", name, ErrUnknownName)
	}
	if err := e.putOverride(ctx, store.OverrideRule, name, active); err != nil {
		return RuleInfo{}, err
	}
	return e.Rule(ctx, name)
}

func (e *Engine) putOverride(ctx context.Context, kind store.OverrideKind, name string, active bool) error {
	if e.store == nil {
		return ErrNoStore
	}
	if _, err := e.store.PutOverride(ctx, store.Override{Kind: kind, Name: name, Active: active}, e.now()); err != nil {
		return err
	}
	e.log.Info("engine: active flag set through the API", "kind", string(kind), "name", name, "active", active)
	return e.RefreshWebhooks(ctx) // in force here at once; other nodes follow within the watch interval
}
