package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// newCheckCommand returns `ruleflow check CONFIG`: it loads and validates a
// configuration file and prints a one-line summary, or every error found, each as
// "file:line:col: message" with the offending source line and a caret.
func newCheckCommand() *cobra.Command {
	var printSchema bool
	var storeDSN string
	cmd := &cobra.Command{
		Use:   "check CONFIG",
		Short: "Validate a configuration file",
		Long: `Check loads CONFIG as ruleflow serve would: it decodes the YAML strictly,
expands ${ENV} references, compiles every condition against its form and checks
every reference between forms, rules, callouts and webhooks.

On success it prints a one-line summary and exits 0. Otherwise it prints every
error as file:line:col: message with the source line and a caret, and exits 1.

With --store DSN it also reads the outbox and warns, on stderr, how many pending
deliveries of each callout the configuration would strand: deliveries whose
callout it neither names nor lists in a renamed_from. They would fail at their next
attempt (notified per the policy stored with them). It also lists the webhooks
registered through the API whose form the configuration does not declare
(orphaned: kept, but not firing until the form is declared again).
The exit status stays 0.

With --print-schema it prints the JSON Schema of the configuration file instead.`,
		Example: "  ruleflow check testdata/demo/ruleflow.yaml\n  ruleflow check --store sqlite:ruleflow.db ruleflow.yaml\n  ruleflow check --print-schema > ruleflow.schema.json",
		Args: func(cmd *cobra.Command, args []string) error {
			if printSchema {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if printSchema {
				_, err := cmd.OutOrStdout().Write(rules.JSONSchema)
				return err
			}
			cfg, err := rules.Load(args[0])
			if err != nil {
				var list rules.ErrorList
				if errors.As(err, &list) {
					return &exitError{code: exitFailure, err: fmt.Errorf("%s\n%s", errorText(list), plural(len(list), "error")+" in "+args[0])}
				}
				return err
			}
			if err := engine.CheckRunnable(cfg); err != nil {
				return &exitError{code: exitFailure, err: fmt.Errorf("%s: %w", args[0], err)}
			}
			if _, err := fmt.Fprintln(cmd.OutOrStdout(), cfg.Summary()); err != nil {
				return err
			}
			if storeDSN == "" {
				return nil
			}
			return withStore(cmd.Context(), storeDSN, func(ctx context.Context, st *store.Store) error {
				if err := warnStranded(ctx, cmd.ErrOrStderr(), cfg, st); err != nil {
					return err
				}
				if err := warnRefusedCallbacks(ctx, cmd.ErrOrStderr(), cfg, st); err != nil {
					return err
				}
				return warnOrphaned(ctx, cmd.ErrOrStderr(), cfg, st)
			})
		},
	}
	cmd.Flags().StringVar(&storeDSN, "store", "", "outbox DSN: warn about pending deliveries this configuration would strand")
	cmd.Flags().BoolVar(&printSchema, "print-schema", false, "print the JSON Schema of the configuration file and exit")
	return cmd
}

// plural returns "1 error" or "n errors".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// warnStranded writes one warning per callout whose pending deliveries in st no
// callout of cfg would attempt: not its name, not in a renamed_from, not a webhook
// registered in the store.
func warnStranded(ctx context.Context, w io.Writer, cfg *rules.Config, st *store.Store) error {
	pending, err := st.PendingByCallout(ctx)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, c := range cfg.Callouts {
		known[c.Name] = true
		for _, old := range c.RenamedFrom {
			known[old] = true
		}
	}
	for _, r := range cfg.AllRules() {
		for _, c := range r.Targets {
			known[c.Name] = true
		}
	}
	hooks, err := st.ListWebhooks(ctx)
	if err != nil {
		return err
	}
	for _, h := range hooks {
		known[rules.WebhookCalloutName(h.ID)] = true
	}
	for _, name := range slices.Sorted(maps.Keys(pending)) {
		if known[name] {
			continue
		}
		what := fmt.Sprintf("%d pending deliveries", pending[name])
		if pending[name] == 1 {
			what = "1 pending delivery"
		}
		fmt.Fprintf(w, "warning: %s of callout %q would be stranded: no callout has that name or lists it in renamed_from (they would fail at their next attempt)\n", what, name)
	}
	return nil
}
