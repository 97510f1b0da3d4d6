package main

import (
	"context"
	"fmt"
	"io"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// warnOrphaned writes one warning per webhook registered in st whose form cfg does
// not declare (nor list in a renamed_from): the engine keeps such a webhook but it does not fire until the form
// is declared again.
func warnOrphaned(ctx context.Context, w io.Writer, cfg *rules.Config, st *store.Store) error {
	hooks, err := st.ListWebhooks(ctx)
	if err != nil {
		return err
	}
	for _, h := range hooks {
		_, declared := cfg.Form(h.Form)
		_, renamed := cfg.FormRenamedFrom(h.Form)
		if !declared && !renamed {
			fmt.Fprintf(w, "warning: registered webhook %s is orphaned: form %q is not configured, so it will not fire until the form is declared again\n", h.ID, h.Form)
		}
	}
	return nil
}
