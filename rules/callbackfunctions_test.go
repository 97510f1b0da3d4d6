package rules

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const callbackFunctionsConfig = `version: 1
forms:
  Ticket:
    fields:
      Status: {id: 7, type: selection, options: [New, Closed]}
callouts:
  - {name: RMM, url: "http://rmm.example/hook", format: name-value}
  - {name: Ops, url: "http://ops.example/hook", format: json}
callback_functions:
  - api_name: close_ticket
    parameters: {id: int, name: string}
    condition: "'id' > 0"
    callouts: [RMM]
  - {api_name: plain, parameters: {x: string}}
rules:
  - {name: On close, form: close_ticket, events: [callback], callouts: [Ops]}
`

// TestCallbackFunctionRule: a function's own condition and callouts fire besides
// the rules that name it; a call its condition refuses fires only those rules.
func TestCallbackFunctionRule(t *testing.T) {
	cfg := mustParse(t, callbackFunctionsConfig)
	for _, tc := range []struct {
		id   int64
		want []string
	}{{7, []string{"On close", "callback function close_ticket"}}, {0, []string{"On close"}}} {
		out := runEvent(t, cfg, &Event{Kind: KindCallback, Form: "close_ticket", EntryID: "call_1", After: Record{"id": tc.id, "name": "tom"}})
		if diff := cmp.Diff(tc.want, firedRules(out)); diff != "" {
			t.Errorf("id %d: fired (-want +got):\n%s", tc.id, diff)
		}
	}
	if got := cfg.CallbackRules(); len(got) != 1 || got[0].Name != "callback function close_ticket" || got[0].Targets[0].Name != "RMM" {
		t.Errorf("CallbackRules() = %v", got)
	}
}

// TestCallbackFunctionFileErrors: the loader's positioned errors for a function's
// condition and callouts.
func TestCallbackFunctionFileErrors(t *testing.T) {
	for _, tc := range []struct{ name, fn, want string }{
		{"unknown callout", `{api_name: f, parameters: {id: int}, callouts: [RMX]}`, `14:53: unknown callout "RMX"; did you mean "RMM"?`},
		{"bad condition", `{api_name: f, parameters: {id: int}, condition: "'idd' > 0", callouts: [RMM]}`, `14:54: invalid condition: unknown field 'idd'`},
		{"condition without callouts", `{api_name: f, condition: "1 = 1"}`, `14:30: callback function "f" has a condition but no callouts: give it callouts to fire`},
		{"empty callouts", `{api_name: f, callouts: []}`, `14:29: callback function "f": callouts must name at least one callout`},
		{"twice", `{api_name: f, callouts: [RMM, RMM]}`, `14:35: callout "RMM" is listed twice`},
		{"NUL in description", `{api_name: f, description: "a\0b"}`, `14:32: description must not contain a NUL byte`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(callbackFunctionsConfig, "  - {api_name: plain, parameters: {x: string}}", "  - "+tc.fn, 1)
			_, err := parseTest(t, src)
			if diff := cmp.Diff([]string{tc.want}, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCheckCallbackFunction: an API write is judged by the loader's code, with
// whole error texts; a condition error is positioned in the condition string.
func TestCheckCallbackFunction(t *testing.T) {
	cfg := mustParse(t, callbackFunctionsConfig)
	for _, tc := range []struct {
		name string
		fn   *CallbackFunction
		want string
	}{
		{"ok", &CallbackFunction{APIName: "new_fn", Parameters: map[string]string{"id": "int"}, Condition: "'id' = 1", Callouts: []string{"RMM", "Ops"}}, ""},
		{"ok without callouts", &CallbackFunction{APIName: "bare"}, ""},
		{"file's name", &CallbackFunction{APIName: "close_ticket"}, `api_name "close_ticket" is a callback function of the configuration file`},
		{"invalid name", &CallbackFunction{APIName: "close ticket"}, `invalid api_name "close ticket" (want letters, digits and underscores, not starting with a digit)`},
		{"NUL in name", &CallbackFunction{APIName: "a\x00b"}, `invalid api_name "a\x00b" (want letters, digits and underscores, not starting with a digit)`},
		{"empty name", &CallbackFunction{}, `invalid api_name "" (want letters, digits and underscores, not starting with a digit)`},
		{"NUL in description", &CallbackFunction{APIName: "f", Description: "a\x00"}, "description must not contain a NUL byte"},
		{"bad UTF-8 in description", &CallbackFunction{APIName: "f", Description: "a\xff"}, "description must be valid UTF-8"},
		{"bad parameter type", &CallbackFunction{APIName: "f", Parameters: map[string]string{"x": "long"}}, `unknown parameter type "long" for "x" (want string, int, float, bool, date or map)`},
		{"bad parameter name", &CallbackFunction{APIName: "f", Parameters: map[string]string{"x-y": "int"}}, `invalid parameter name "x-y" (want letters, digits and underscores)`},
		{"callout_fields", &CallbackFunction{APIName: "f", Parameters: map[string]string{"x": "int"}, CalloutFields: CalloutFields{ID: "y"}}, `callout_fields id: "y" is not an argument of callback function "f"`},
		{"unknown callout", &CallbackFunction{APIName: "f", Callouts: []string{"Opz"}}, `unknown callout "Opz"; did you mean "Ops"?`},
		{"condition", &CallbackFunction{APIName: "f", Parameters: map[string]string{"id": "int"}, Condition: "'id' > 'nme'", Callouts: []string{"RMM"}},
			"condition:1:8: unknown field 'nme'\n 1 | 'id' > 'nme'\n   |        ^"},
		{"condition without callouts", &CallbackFunction{APIName: "f", Condition: "1 = 1"}, `callback function "f" has a condition but no callouts: give it callouts to fire`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := cfg.CheckCallbackFunction(tc.fn)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("error:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
	if _, ok := cfg.CallbackFunction("new_fn"); ok {
		t.Error("CheckCallbackFunction changed the configuration")
	}
}

// TestWithCallbackFunctions: functions added at run time are found, run their own
// rule, keep the webhooks' rules, and a duplicate is refused naming it.
func TestWithCallbackFunctions(t *testing.T) {
	base := mustParse(t, callbackFunctionsConfig)
	fn := &CallbackFunction{APIName: "escalate", Parameters: map[string]string{"level": "int"}, Condition: "'level' >= 2", Callouts: []string{"Ops"}, CalloutFields: CalloutFields{ID: "level"}}
	cfg, err := base.WithCallbackFunctions([]*CallbackFunction{fn})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := cfg.CallbackFunction("escalate"); !ok || got != fn {
		t.Fatalf("CallbackFunction(escalate) = %v, %v", got, ok)
	}
	if _, ok := base.CallbackFunction("escalate"); ok {
		t.Error("the base configuration changed")
	}
	out := runEvent(t, cfg, &Event{Kind: KindCallback, Form: "escalate", EntryID: "call_2", After: Record{"level": int64(3)}})
	if diff := cmp.Diff([]string{"callback function escalate"}, firedRules(out)); diff != "" {
		t.Errorf("fired (-want +got):\n%s", diff)
	}
	if cf, _, ok := cfg.CalloutSource(&Event{Kind: KindCallback, Form: "escalate"}); !ok || cf.ID != "level" {
		t.Errorf("CalloutSource = %+v, %v", cf, ok)
	}
	// Webhooks added afterwards keep the function's rule.
	wcfg, err := cfg.WithWebhooks(nil)
	if err != nil {
		t.Fatal(err)
	}
	if out := runEvent(t, wcfg, &Event{Kind: KindCallback, Form: "escalate", EntryID: "call_3", After: Record{"level": int64(2)}}); len(out.Matches) != 1 {
		t.Errorf("after WithWebhooks: fired %v", firedRules(out))
	}
	_, err = base.WithCallbackFunctions([]*CallbackFunction{fn, {APIName: "escalate"}})
	if err == nil || err.Error() != `callback function "escalate": duplicate api_name "escalate"` {
		t.Errorf("duplicate: %v", err)
	}
}

// FuzzCheckCallbackFunction: what CheckCallbackFunction accepts, WithCallbackFunctions
// builds and finds, and a call to it runs; nothing panics.
func FuzzCheckCallbackFunction(f *testing.F) {
	f.Add("escalate", "raise", "level", "int", "'level' >= 2", "RMM")
	f.Add("a\x00b", "", "x-y", "long", "'nope' = 1", "Nope")
	f.Add("f", "d\xff", "n", "string", "'n' LIKE \"%a%\"", "")
	f.Add("close_ticket", "", "", "", "", "")
	f.Add("_x9", "", "when", "date", "'when' > $DATE$", "Ops")
	cfg := mustParse(f, callbackFunctionsConfig)
	f.Fuzz(func(t *testing.T, name, desc, param, typ, cond, callout string) {
		fn := &CallbackFunction{APIName: name, Description: desc, Condition: cond}
		if param != "" {
			fn.Parameters = map[string]string{param: typ}
		}
		if callout != "" {
			fn.Callouts = []string{callout}
		}
		if err := cfg.CheckCallbackFunction(fn); err != nil {
			return
		}
		nc, err := cfg.WithCallbackFunctions([]*CallbackFunction{fn})
		if err != nil {
			t.Fatalf("CheckCallbackFunction accepted %+v, WithCallbackFunctions refused it: %v", fn, err)
		}
		if got, ok := nc.CallbackFunction(name); !ok || got != fn {
			t.Fatalf("accepted function %q not found", name)
		}
		rec := Record{}
		if param != "" {
			rec[param] = nil
		}
		nc.Run(&Event{Kind: KindCallback, Form: name, EntryID: "call_1", After: rec}) // must not panic
	})
}

// TestCallbackFunctionOneJudge: a function refused in the file and the same
// function written through the API get the same messages (the file's carry a
// position; a condition error is "invalid condition: m" at its line in the file and
// "condition:1:c: m" in the API).
func TestCallbackFunctionOneJudge(t *testing.T) {
	cfg := mustParse(t, callbackFunctionsConfig)
	for _, tc := range []struct {
		yaml string
		fn   *CallbackFunction
	}{
		{`{api_name: f, callouts: [RMX]}`, &CallbackFunction{APIName: "f", Callouts: []string{"RMX"}}},
		{`{api_name: f, callouts: [RMM, RMM]}`, &CallbackFunction{APIName: "f", Callouts: []string{"RMM", "RMM"}}},
		{`{api_name: f, parameters: {x: long}}`, &CallbackFunction{APIName: "f", Parameters: map[string]string{"x": "long"}}},
		{`{api_name: f, parameters: {x: int}, callout_fields: {id: y}}`, &CallbackFunction{APIName: "f", Parameters: map[string]string{"x": "int"}, CalloutFields: CalloutFields{ID: "y"}}},
		{`{api_name: f, condition: "1 = 1"}`, &CallbackFunction{APIName: "f", Condition: "1 = 1"}},
		{`{api_name: f, parameters: {n: int}, condition: "'m' = 1", callouts: [RMM]}`, &CallbackFunction{APIName: "f", Parameters: map[string]string{"n": "int"}, Condition: "'m' = 1", Callouts: []string{"RMM"}}},
		{`{api_name: f, description: "a\0"}`, &CallbackFunction{APIName: "f", Description: "a\x00"}},
		{`{api_name: "9f"}`, &CallbackFunction{APIName: "9f"}},
	} {
		_, err := parseTest(t, strings.Replace(callbackFunctionsConfig, "  - {api_name: plain, parameters: {x: string}}", "  - "+tc.yaml, 1))
		var file []string
		for _, line := range errLines(err) {
			_, msg, _ := strings.Cut(line, ": ")
			file = append(file, strings.TrimPrefix(msg, "invalid condition: "))
		}
		var api []string
		var list ErrorList
		if e := cfg.CheckCallbackFunction(tc.fn); errors.As(e, &list) {
			for _, e := range list {
				api = append(api, e.Msg) // the position ("condition:1:c") is apart
			}
		}
		if len(file) == 0 || !cmp.Equal(file, api) {
			t.Errorf("%s:\nfile %q\napi  %q", tc.yaml, file, api)
		}
	}
}
