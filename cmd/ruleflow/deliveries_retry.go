package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ruleflow/ruleflow/engine/httpapi"
	"github.com/ruleflow/ruleflow/engine/store"
)

// newRetryCommand is `ruleflow deliveries retry`: one delivery by ID, or every
// delivery a filter selects (the CLI of POST /v1/deliveries/retry).
func newRetryCommand(dsn *string) *cobra.Command {
	var status, kind, callout, since, until string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "retry ID | retry [--status failed|pending] [--callout NAME] [--kind callout|email|note] [--since 1h|TIME] [--until TIME] [--dry-run]",
		Short: "Re-drive a failed delivery, or all that a filter selects: pending again, due now, with a fresh retry budget (never a delivered one)",
		Long: `Retry re-drives one delivery by ID, or every delivery the filter selects, in one
transaction. --status is failed (the default) or pending (made due now);
--since and --until bound the creation time, each an RFC 3339 time or a duration
before now (1h, 30m, 7d). --dry-run prints how many would be re-driven and
changes nothing. A delivered delivery is never sent again.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			filtered := status != "" || kind != "" || callout != "" || since != "" || until != ""
			if len(args) == 1 {
				if filtered || dryRun {
					return errors.New("retry: give an ID or a filter (--status, --callout, --kind, --since, --until), not both")
				}
				return withStore(cmd.Context(), *dsn, func(ctx context.Context, st *store.Store) error {
					if err := st.Retry(ctx, args[0], time.Now()); err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s: pending, due now\n", args[0])
					return nil
				})
			}
			if !filtered {
				return errors.New("retry: give a delivery ID, or a filter such as --status failed --since 1h")
			}
			f, err := httpapi.RetryFilterOf(status, kind, callout, since, until, time.Now())
			if err != nil {
				return fmt.Errorf("retry: %w", err)
			}
			return withStore(cmd.Context(), *dsn, func(ctx context.Context, st *store.Store) error {
				if dryRun {
					n, err := st.CountMatching(ctx, f)
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%d deliveries would be retried (dry run: nothing changed)\n", n)
					return nil
				}
				n, err := st.RetryMatching(ctx, f, time.Now())
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d deliveries retried: pending, due now\n", n)
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&status, "status", "", "failed (default with a filter) or pending")
	fl.StringVar(&kind, "kind", "", "only jobs of this kind (callout, email, note)")
	fl.StringVar(&callout, "callout", "", "only deliveries of this callout")
	fl.StringVar(&since, "since", "", "only deliveries created at or after this time (RFC 3339, or a duration before now: 1h)")
	fl.StringVar(&until, "until", "", "only deliveries created before this time (RFC 3339, or a duration before now)")
	fl.BoolVar(&dryRun, "dry-run", false, "print how many deliveries would be retried; change nothing")
	return cmd
}
