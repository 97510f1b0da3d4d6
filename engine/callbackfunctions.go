package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// Callback functions created through the API live in the store, beside the
// registered webhooks, and reach every node the same way: a change advances the
// registry revision and RefreshWebhooks (run by every node's watch) reloads them.
// The configuration file's functions are read-only here. A function's publication
// state and token stay in the callback token table, whatever its source.

// CallbackFunctionInfo is a callback function with where it is defined.
type CallbackFunctionInfo struct {
	Function *rules.CallbackFunction
	// API is true for a function created through the API, false for one of the
	// configuration file.
	API bool
	// Error is why the configuration in force refuses a stored function (a callout
	// it names was removed, say): it does not answer until the cause is fixed.
	// Empty for a function in force.
	Error     string
	CreatedAt time.Time // zero for the file's functions
	UpdatedAt time.Time
}

// storedCallbackFunction is the document the store keeps for a function created
// through the API: rules.CallbackFunction without the publication state.
type storedCallbackFunction struct {
	Description   string              `json:"description,omitempty"`
	Parameters    map[string]string   `json:"parameters,omitempty"`
	CalloutFields rules.CalloutFields `json:"callout_fields"`
	Condition     string              `json:"condition,omitempty"`
	Callouts      []string            `json:"callouts,omitempty"`
}

func encodeCallbackFunction(f *rules.CallbackFunction) ([]byte, error) {
	return json.Marshal(storedCallbackFunction{
		Description: f.Description, Parameters: f.Parameters, CalloutFields: f.CalloutFields,
		Condition: f.Condition, Callouts: f.Callouts,
	})
}

func decodeCallbackFunction(sf store.CallbackFunction) (*rules.CallbackFunction, error) {
	var d storedCallbackFunction
	if err := json.Unmarshal(sf.Document, &d); err != nil {
		return nil, fmt.Errorf("callback function %s: unreadable document: %w", sf.APIName, err)
	}
	return &rules.CallbackFunction{
		APIName: sf.APIName, Description: d.Description, Parameters: d.Parameters, CalloutFields: d.CalloutFields,
		Condition: d.Condition, Callouts: d.Callouts,
	}, nil
}

// storedCallbackFunctions reads and decodes the functions of the store; an
// unreadable one is logged and left out.
func (e *Engine) storedCallbackFunctions(ctx context.Context) ([]*rules.CallbackFunction, error) {
	list, err := e.store.ListCallbackFunctions(ctx)
	if err != nil {
		return nil, fmt.Errorf("engine: callback functions: %w", err)
	}
	out := make([]*rules.CallbackFunction, 0, len(list))
	for _, sf := range list {
		f, err := decodeCallbackFunction(sf)
		if err != nil {
			e.log.Error("engine: skipping stored callback function", "error", err)
			continue
		}
		out = append(out, f)
	}
	return out, nil
}

// withStoredCallbackFunctions adds the stored functions to cfg, each judged against
// base (the configuration file) as the API judged it. One the configuration can no
// longer run is left out with an error log and recorded in refused.
func withStoredCallbackFunctions(base, cfg *rules.Config, stored []*rules.CallbackFunction, log *slog.Logger) (*rules.Config, map[string]string, error) {
	refused := map[string]string{}
	valid := make([]*rules.CallbackFunction, 0, len(stored))
	for _, f := range stored {
		if err := base.CheckCallbackFunction(f); err != nil {
			log.Error("engine: stored callback function is refused by the configuration; it will not answer", "api_name", f.APIName, "error", err)
			refused[f.APIName] = allErrors(err)
			continue
		}
		valid = append(valid, f)
	}
	out, err := cfg.WithCallbackFunctions(valid)
	if err != nil {
		return nil, nil, fmt.Errorf("engine: stored callback functions: %w", err)
	}
	return out, refused, nil
}

// validateCallbackFunction judges f as an API write: the loader's judge of the
// file's functions (rules.CheckCallbackFunction), and an api_name the file uses is
// a conflict.
func (e *Engine) validateCallbackFunction(f *rules.CallbackFunction) error {
	base := e.cfg.Load().base
	if _, ok := base.CallbackFunction(f.APIName); ok {
		return fmt.Errorf("%w: callback function %q is defined in the configuration file", store.ErrDuplicate, f.APIName)
	}
	if err := base.CheckCallbackFunction(f); err != nil {
		return &InvalidError{Msg: allErrors(err)}
	}
	return nil
}

// allErrors is the text of every error of err (an ErrorList), one after another.
func allErrors(err error) string {
	var list rules.ErrorList
	if !errors.As(err, &list) || len(list) < 2 {
		return err.Error()
	}
	msgs := make([]string, len(list))
	for i, e := range list {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// CreateCallbackFunction stores f, a callback function created through the API,
// after judging it as the loader judges the file's, and makes it answer from the
// next call on (on the other nodes of a shared store within the watch interval).
// A non-empty token publishes it at once with that token (only its hash is
// stored, in the same transaction); f.Published is ignored.
func (e *Engine) CreateCallbackFunction(ctx context.Context, f *rules.CallbackFunction, token string) error {
	if e.store == nil {
		return ErrNoStore
	}
	if err := e.validateCallbackFunction(f); err != nil {
		return err
	}
	doc, err := encodeCallbackFunction(f)
	if err != nil {
		return err
	}
	var ct *store.CallbackToken
	if token != "" {
		ct = &store.CallbackToken{APIName: f.APIName, Published: true, TokenHash: store.HashToken(token)}
	}
	if _, err := e.store.CreateCallbackFunction(ctx, store.CallbackFunction{APIName: f.APIName, Document: doc}, ct, e.now()); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return fmt.Errorf("%w: callback function %q exists", store.ErrDuplicate, f.APIName)
		}
		return err
	}
	return e.RefreshWebhooks(ctx)
}

// UpdateCallbackFunction replaces the definition of the API-created function
// f.APIName; its publication state and token are kept. The file's functions are
// ErrReadOnly, an unknown name store.ErrNotFound.
func (e *Engine) UpdateCallbackFunction(ctx context.Context, f *rules.CallbackFunction) error {
	if e.store == nil {
		return ErrNoStore
	}
	if _, ok := e.cfg.Load().base.CallbackFunction(f.APIName); ok {
		return fmt.Errorf("callback function %q: %w", f.APIName, ErrReadOnly)
	}
	if _, err := e.store.GetCallbackFunction(ctx, f.APIName); err != nil {
		return err
	}
	if err := e.validateCallbackFunction(f); err != nil {
		return err
	}
	doc, err := encodeCallbackFunction(f)
	if err != nil {
		return err
	}
	if _, err := e.store.UpdateCallbackFunction(ctx, store.CallbackFunction{APIName: f.APIName, Document: doc}, e.now()); err != nil {
		return err
	}
	return e.RefreshWebhooks(ctx)
}

// DeleteCallbackFunction removes the API-created function apiName and its token:
// its URL answers 404 from now on. The file's functions are ErrReadOnly.
func (e *Engine) DeleteCallbackFunction(ctx context.Context, apiName string) error {
	if e.store == nil {
		return ErrNoStore
	}
	if _, ok := e.cfg.Load().base.CallbackFunction(apiName); ok {
		return fmt.Errorf("callback function %q: %w", apiName, ErrReadOnly)
	}
	if err := e.store.DeleteCallbackFunction(ctx, apiName); err != nil {
		return err
	}
	return e.RefreshWebhooks(ctx)
}

// CallbackFunctionReadOnly reports whether apiName is a function of the
// configuration file, which the API cannot change.
func (e *Engine) CallbackFunctionReadOnly(apiName string) bool {
	_, ok := e.cfg.Load().base.CallbackFunction(apiName)
	return ok
}

// CallbackFunctions returns every callback function: the configuration file's,
// then those created through the API by api_name (read from the store, so a
// function the configuration refuses is listed with its Error).
func (e *Engine) CallbackFunctions(ctx context.Context) ([]CallbackFunctionInfo, error) {
	if err := e.RefreshWebhooks(ctx); err != nil {
		return nil, err
	}
	state := e.cfg.Load()
	var out []CallbackFunctionInfo
	for _, f := range state.base.Callbacks {
		out = append(out, CallbackFunctionInfo{Function: f})
	}
	if e.store == nil {
		return out, nil
	}
	list, err := e.store.ListCallbackFunctions(ctx)
	if err != nil {
		return nil, err
	}
	for _, sf := range list {
		info, err := e.callbackFunctionInfo(state, sf)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// CallbackFunctionByName returns the callback function apiName, of the file or the
// store, or store.ErrNotFound.
func (e *Engine) CallbackFunctionByName(ctx context.Context, apiName string) (CallbackFunctionInfo, error) {
	if err := e.RefreshWebhooks(ctx); err != nil {
		return CallbackFunctionInfo{}, err
	}
	state := e.cfg.Load()
	if f, ok := state.base.CallbackFunction(apiName); ok {
		return CallbackFunctionInfo{Function: f}, nil
	}
	if e.store == nil {
		return CallbackFunctionInfo{}, fmt.Errorf("callback function %s: %w", apiName, store.ErrNotFound)
	}
	sf, err := e.store.GetCallbackFunction(ctx, apiName)
	if err != nil {
		return CallbackFunctionInfo{}, err
	}
	return e.callbackFunctionInfo(state, sf)
}

func (e *Engine) callbackFunctionInfo(state *configState, sf store.CallbackFunction) (CallbackFunctionInfo, error) {
	f, err := decodeCallbackFunction(sf)
	if err != nil {
		return CallbackFunctionInfo{}, err
	}
	info := CallbackFunctionInfo{Function: f, API: true, CreatedAt: sf.CreatedAt, UpdatedAt: sf.UpdatedAt}
	if _, ok := state.cfg.CallbackFunction(f.APIName); !ok {
		info.Error = state.refusedCallbacks[f.APIName] // "" while this node has not read it yet
	}
	return info, nil
}

// RefusedCallbackFunctions judges the callback functions stored in st (created
// through the API) against cfg as an engine loading cfg would, and returns why
// each refused one would not answer, by api_name. `ruleflow check --store` lists
// them.
func RefusedCallbackFunctions(ctx context.Context, cfg *rules.Config, st *store.Store) (map[string]string, error) {
	list, err := st.ListCallbackFunctions(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, sf := range list {
		f, err := decodeCallbackFunction(sf)
		if err != nil {
			out[sf.APIName] = err.Error()
			continue
		}
		if err := cfg.CheckCallbackFunction(f); err != nil {
			out[sf.APIName] = allErrors(err)
		}
	}
	return out, nil
}
