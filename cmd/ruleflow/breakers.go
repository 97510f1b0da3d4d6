package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ruleflow/ruleflow/engine/store"
)

// newBreakersCommand is `ruleflow deliveries breakers`: the circuit breakers of
// callout endpoints, as the store shared by every node holds them.
func newBreakersCommand(dsn *string) *cobra.Command {
	return &cobra.Command{
		Use:   "breakers",
		Short: "List the circuit breakers of callout endpoints that recorded failures",
		Long: `Breakers lists, per callout endpoint (scheme://host:port), its circuit breaker: closed,
open (deliveries to it wait, without using up retries, until the probe time) or
half_open (one probe attempt is under way), with the consecutive failures counted,
the current cool-down and the callout whose attempt changed it last.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), *dsn, func(ctx context.Context, st *store.Store) error {
				bs, err := st.Breakers(ctx)
				if err != nil {
					return err
				}
				printBreakers(cmd.OutOrStdout(), bs)
				return nil
			})
		},
	}
}

func printBreakers(w io.Writer, bs []store.Breaker) {
	if len(bs) == 0 {
		fmt.Fprintln(w, "no endpoint has recorded a failure: every circuit breaker is closed")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENDPOINT\tSTATE\tFAILURES\tCOOLDOWN\tOPENED\tPROBE AFTER\tLAST CALLOUT")
	for _, b := range bs {
		cool := ""
		if b.Cooldown > 0 {
			cool = b.Cooldown.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", b.Endpoint, b.State, b.Failures, cool, stamp(b.OpenedAt), stamp(b.OpenUntil), b.Callout)
	}
	tw.Flush()
}

// printOpenBreakers follows `deliveries list` with the breakers that hold
// deliveries back, if any.
func printOpenBreakers(ctx context.Context, w io.Writer, st *store.Store) error {
	bs, err := st.Breakers(ctx)
	if err != nil {
		return err
	}
	for _, b := range bs {
		switch b.State {
		case store.BreakerOpen:
			fmt.Fprintf(w, "circuit breaker open: %s after %d failures (last callout %s); deliveries to it wait until %s\n",
				b.Endpoint, b.Failures, b.Callout, b.OpenUntil.UTC().Format(time.RFC3339))
		case store.BreakerHalfOpen:
			fmt.Fprintf(w, "circuit breaker half open: %s; one probe attempt is under way (last callout %s)\n", b.Endpoint, b.Callout)
		}
	}
	return nil
}
