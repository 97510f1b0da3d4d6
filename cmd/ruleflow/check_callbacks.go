package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// warnRefusedCallbacks writes one warning per callback function created through
// the API (stored in st) that cfg would refuse, so that it would not answer.
func warnRefusedCallbacks(ctx context.Context, w io.Writer, cfg *rules.Config, st *store.Store) error {
	refused, err := engine.RefusedCallbackFunctions(ctx, cfg, st)
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(refused)) {
		fmt.Fprintf(w, "warning: callback function %q (created through the API) would not answer: %s\n", name, refused[name])
	}
	return nil
}
