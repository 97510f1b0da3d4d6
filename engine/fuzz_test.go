package engine

import (
	"context"
	"testing"

	"github.com/ruleflow/ruleflow/rules"
)

// FuzzHandle feeds arbitrary event JSON through DecodeEvent and Handle with the demo
// configuration (dry run): bad input is an error, never a panic, and a successful
// Handle fires exactly the callouts its matches list, each with a request.
// The seed corpus is testdata/fuzz/FuzzHandle (events of the demo fixtures and
// ill-typed values).
func FuzzHandle(f *testing.F) {
	cfg, err := rules.Load("../testdata/demo/ruleflow.yaml")
	if err != nil {
		f.Fatal(err)
	}
	e := openEngine(f, Options{Config: cfg})
	f.Add([]byte(`{"event":"update","form":"Ticket","entry_id":"1","before":{"Status":"New"},"after":{"Status":"Complete","Kaseya Alert ID":"V-1"}}`))
	f.Add([]byte(`{"event":"delete","form":"HPD:Help Desk","entry_id":"INC9","before":{"Status":"Closed"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := cfg.DecodeEvent(data, nil)
		if err != nil {
			return
		}
		res, err := e.Handle(context.Background(), ev)
		if err != nil {
			if res != nil {
				t.Fatalf("Handle returned a result with its error %v", err)
			}
			return
		}
		fire := 0
		for _, m := range res.Matches {
			fire += len(m.Fire)
		}
		if fire != len(res.Fired) {
			t.Fatalf("matches fire %d callouts, Fired lists %d", fire, len(res.Fired))
		}
		for _, f := range res.Fired {
			if f.Request == nil || (f.Request.Method != "GET" && f.Request.Method != "POST") {
				t.Fatalf("fired %s/%s without a valid request: %+v", f.Rule, f.Callout, f.Request)
			}
		}
	})
}
