package main

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/engine/httpapi"
	"github.com/ruleflow/ruleflow/rules"
)

// configLookup reads records from the `lookup:` endpoint of the configuration in
// force when a time-based rule falls due, so a reload that adds, changes or removes
// it takes effect for the next timer; without one the engine uses its snapshot.
type configLookup struct {
	eng    atomic.Pointer[engine.Engine] // set once the engine is open
	client *http.Client                  // the engine's: the egress guard vets the endpoint
}

// LookupEnabled reports whether the configuration in force has a lookup endpoint.
func (l *configLookup) LookupEnabled() bool {
	eng := l.eng.Load()
	if eng == nil {
		return false
	}
	ep := eng.Config().Lookup
	return ep != nil && ep.URL != ""
}

// Lookup reads one record from the endpoint in force.
func (l *configLookup) Lookup(ctx context.Context, form, entryID string) (rules.Record, error) {
	eng := l.eng.Load()
	if eng == nil {
		return nil, errors.New("lookup: engine not started")
	}
	cfg := eng.Config()
	if cfg.Lookup == nil || cfg.Lookup.URL == "" {
		return nil, errors.New("lookup: no endpoint configured")
	}
	return httpapi.NewLookupForwarder(cfg.Lookup, cfg, eng.Key(), l.client).Lookup(ctx, form, entryID)
}
