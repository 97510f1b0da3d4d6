package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/engine/store/storetest"
)

// TestCheckStoreListsRefusedCallbacks: check --store warns about each callback
// function created through the API that the configuration would refuse (a callout
// it names is gone, its api_name is now the file's), and exits 0.
func TestCheckStoreListsRefusedCallbacks(t *testing.T) {
	dsn := storetest.SQLiteDSN(t)
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]string{
		"fine":      `{"parameters":{"n":"int"},"callouts":["Ops"]}`,
		"lost":      `{"callouts":["Removed"]}`,
		"now_filed": `{}`,
	} {
		if _, err := st.CreateCallbackFunction(context.Background(), store.CallbackFunction{APIName: name, Document: []byte(doc)}, nil, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	cfg := writeFile(t, "ruleflow.yaml", `version: 1
callouts:
  - {name: Ops, url: "http://127.0.0.1:9/ops", format: json}
callback_functions:
  - {api_name: now_filed}
`)
	var stdout, stderr bytes.Buffer
	code := run([]string{"check", "--store", dsn, cfg}, &stdout, &stderr)
	want := `warning: callback function "lost" (created through the API) would not answer: unknown callout "Removed"
warning: callback function "now_filed" (created through the API) would not answer: api_name "now_filed" is a callback function of the configuration file
`
	if code != 0 || stderr.String() != want {
		t.Errorf("check --store = %d\nstderr:\n%s\nwant:\n%s", code, stderr.String(), want)
	}
}
