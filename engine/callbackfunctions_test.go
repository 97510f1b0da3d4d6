package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// callbackFunctionConfig has a file function (read-only through the API) and the
// callouts API functions may fire.
const callbackFunctionConfig = `
callouts:
  - {name: RMM, url: "{{URL}}/hook", format: name-value}
  - {name: Ops, url: "{{URL}}/ops", format: json}
callback_functions:
  - {api_name: close_ticket, parameters: {id: int}, callouts: [RMM]}
`

func escalateFunction() *rules.CallbackFunction {
	return &rules.CallbackFunction{
		APIName: "escalate", Description: "raise the level", Parameters: map[string]string{"level": "int", "who": "string"},
		CalloutFields: rules.CalloutFields{ID: "level"}, Condition: "'level' >= 2", Callouts: []string{"RMM"},
	}
}

func callbackEvent(name string, args rules.Record) *rules.Event {
	return &rules.Event{Kind: rules.KindCallback, Form: name, EntryID: "call_1", Time: time.Now(), After: args}
}

// TestCallbackFunctionErrors: every refused write names its problem in full and
// changes nothing in the store (not even the registry revision).
func TestCallbackFunctionErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rc := newReceiver(t, nil)
	e := openEngine(t, Options{Config: parseConfig(t, rc.URL, callbackFunctionConfig), Store: sqliteDSN(t), NoDispatch: true})
	if err := e.CreateCallbackFunction(ctx, escalateFunction(), ""); err != nil {
		t.Fatal(err)
	}
	rev, _ := e.Store().Revision(ctx)
	bad := func(mut func(*rules.CallbackFunction)) *rules.CallbackFunction {
		f := escalateFunction()
		f.APIName = "other"
		mut(f)
		return f
	}
	for _, tc := range []struct {
		name string
		op   func() error
		is   error
		want string
	}{
		{"duplicate of the file", func() error {
			return e.CreateCallbackFunction(ctx, &rules.CallbackFunction{APIName: "close_ticket"}, "")
		}, store.ErrDuplicate, `duplicate: callback function "close_ticket" is defined in the configuration file`},
		{"duplicate of the API", func() error { return e.CreateCallbackFunction(ctx, escalateFunction(), "") },
			store.ErrDuplicate, `duplicate: callback function "escalate" exists`},
		{"invalid name", func() error {
			return e.CreateCallbackFunction(ctx, bad(func(f *rules.CallbackFunction) { f.APIName = "9lives" }), "tok")
		},
			nil, `invalid api_name "9lives" (want letters, digits and underscores, not starting with a digit)`},
		{"NUL in a parameter", func() error {
			return e.CreateCallbackFunction(ctx, bad(func(f *rules.CallbackFunction) { f.Parameters = map[string]string{"a\x00": "int"} }), "")
		}, nil, "invalid parameter name \"a\\x00\" (want letters, digits and underscores)\n" +
			`callout_fields id: "level" is not an argument of callback function "other"`},
		{"unknown callout", func() error {
			return e.CreateCallbackFunction(ctx, bad(func(f *rules.CallbackFunction) { f.Callouts = []string{"Nope"} }), "")
		}, nil, `unknown callout "Nope"; did you mean "Ops"?`},
		{"condition", func() error {
			return e.CreateCallbackFunction(ctx, bad(func(f *rules.CallbackFunction) { f.Condition = "'levl' >= 2" }), "")
		}, nil, "condition:1:1: unknown field 'levl'\n 1 | 'levl' >= 2\n   | ^"},
		{"update of the file's", func() error { return e.UpdateCallbackFunction(ctx, &rules.CallbackFunction{APIName: "close_ticket"}) },
			ErrReadOnly, `callback function "close_ticket": defined in the configuration file`},
		{"delete of the file's", func() error { return e.DeleteCallbackFunction(ctx, "close_ticket") },
			ErrReadOnly, `callback function "close_ticket": defined in the configuration file`},
		{"update unknown", func() error { return e.UpdateCallbackFunction(ctx, &rules.CallbackFunction{APIName: "nope"}) },
			store.ErrNotFound, "store: callback function nope: not found"},
		{"delete unknown", func() error { return e.DeleteCallbackFunction(ctx, "nope") },
			store.ErrNotFound, "store: callback function nope: not found"},
		{"update invalid", func() error {
			f := escalateFunction()
			f.Callouts = []string{"RMM", "RMM"}
			return e.UpdateCallbackFunction(ctx, f)
		}, nil, `callout "RMM" is listed twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.op()
			if err == nil {
				t.Fatal("accepted")
			}
			var inv *InvalidError
			if tc.is != nil && !errors.Is(err, tc.is) || tc.is == nil && !errors.As(err, &inv) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			if err.Error() != tc.want {
				t.Errorf("error:\n%s\nwant:\n%s", err, tc.want)
			}
		})
	}
	if got, _ := e.Store().Revision(ctx); got != rev {
		t.Errorf("revision %d after refused writes, want %d", got, rev)
	}
	list, _ := e.Store().ListCallbackFunctions(ctx)
	if len(list) != 1 || list[0].APIName != "escalate" {
		t.Errorf("stored functions %+v, want escalate only", list)
	}
	if f, ok := e.Config().CallbackFunction("escalate"); !ok || f.Condition != "'level' >= 2" {
		t.Errorf("escalate in force: %+v", f)
	}
	if _, err := e.Store().GetCallbackToken(ctx, "other"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused create stored a token: %v", err)
	}
}

// TestCallbackFunctionRefusedAfterReload: a stored function naming a callout the
// new configuration removed stops answering, is listed with the reason, and comes
// back when the callout does.
func TestCallbackFunctionRefusedAfterReload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rc := newReceiver(t, nil)
	full := parseConfig(t, rc.URL, callbackFunctionConfig)
	e := openEngine(t, Options{Config: full, Store: sqliteDSN(t), NoDispatch: true})
	if err := e.CreateCallbackFunction(ctx, escalateFunction(), ""); err != nil {
		t.Fatal(err)
	}
	if err := e.Reload(parseConfig(t, rc.URL, "callouts:\n  - {name: Ops, url: \"{{URL}}/ops\", format: json}\n")); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.Config().CallbackFunction("escalate"); ok {
		t.Error("escalate in force without its callout")
	}
	info, err := e.CallbackFunctionByName(ctx, "escalate")
	if err != nil || !info.API || info.Error != `unknown callout "RMM"` {
		t.Errorf("info %+v, %v", info, err)
	}
	if err := e.Reload(full); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.Config().CallbackFunction("escalate"); !ok {
		t.Error("escalate not back with its callout")
	}
}

// TestCallbackFunctionTwoNodes: a function created, changed and deleted on one
// engine takes effect on a second engine on the same store without a restart, and
// a call there fires the function's own callout (SQLite file and PostgreSQL).
func TestCallbackFunctionTwoNodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", sqliteDSN}, {"postgres", postgresDSN}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			rc := newReceiver(t, nil)
			dsn := tc.dsn(t)
			cfg := parseConfig(t, rc.URL, callbackFunctionConfig)
			a := openEngine(t, Options{Config: cfg, Store: dsn, NoDispatch: true})
			b := openEngine(t, Options{Config: cfg, Store: dsn, PollInterval: 10 * time.Millisecond})
			if err := a.CreateCallbackFunction(ctx, escalateFunction(), "tok"); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, "node b to see escalate", func() bool { _, ok := b.Config().CallbackFunction("escalate"); return ok })
			res, err := b.Handle(ctx, callbackEvent("escalate", rules.Record{"level": int64(3), "who": "tom"}))
			if err != nil || len(res.Fired) != 1 || res.Fired[0].Callout != "RMM" {
				t.Fatalf("handle on b: %+v, %v", res, err)
			}
			job, _ := waitSettled(t, b.Store(), res.Fired[0].DeliveryID, 10*time.Second)
			if job.Status != store.StatusDelivered || job.Rule != "callback function escalate" || job.Form != "escalate" {
				t.Errorf("job %+v", job)
			}
			if hits := rc.requests(); len(hits) != 1 || !strings.Contains(string(hits[0].Body), "id=3") {
				t.Errorf("receiver saw %+v", hits)
			}

			up := escalateFunction()
			up.Condition = "'level' >= 5"
			if err := a.UpdateCallbackFunction(ctx, up); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, "node b to see the new condition", func() bool {
				f, _ := b.Config().CallbackFunction("escalate")
				return f != nil && f.Condition == "'level' >= 5"
			})
			if res, err := b.Handle(ctx, callbackEvent("escalate", rules.Record{"level": int64(3)})); err != nil || len(res.Fired) != 0 {
				t.Errorf("level 3 after the update: %+v, %v", res, err)
			}
			if ct, err := b.Store().GetCallbackToken(ctx, "escalate"); err != nil || !ct.Published || ct.TokenHash != store.HashToken("tok") {
				t.Errorf("token after the update: %+v, %v", ct, err)
			}

			if err := a.DeleteCallbackFunction(ctx, "escalate"); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, "node b to drop escalate", func() bool { _, ok := b.Config().CallbackFunction("escalate"); return !ok })
			if _, err := b.Store().GetCallbackToken(ctx, "escalate"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("token after delete: %v", err)
			}
		})
	}
}
