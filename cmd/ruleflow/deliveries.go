package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ruleflow/ruleflow/callouts"
	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

func newDeliveriesCommand() *cobra.Command {
	var dsn string
	cmd := &cobra.Command{
		Use:   "deliveries list|show ID|retry ID|retry --status failed --since 1h [--dry-run]|breakers",
		Short: "Inspect and re-drive the outbox",
		Long: `Deliveries lists the callout deliveries and notification e-mails in the outbox,
shows one with its rendered request and every attempt (time, duration, status,
error, start of the response),
and re-drives a failed one (or every one a filter selects): it becomes pending
again, due now, with a fresh budget of retries, and is delivered by any running
engine (ruleflow serve, or an embedding host) on the same store.`,
	}
	cmd.PersistentFlags().StringVar(&dsn, "store", defaultStore, "outbox DSN: sqlite:PATH or postgres://...")

	var filter store.Filter
	var status, kind string
	list := &cobra.Command{
		Use:   "list [--status pending|delivered|failed] [--callout NAME] [--kind callout|email|note] [--limit N]",
		Short: "List deliveries, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			filter.Status, filter.Kind = store.Status(status), store.Kind(kind)
			if status != "" && !filter.Status.Valid() {
				return fmt.Errorf("--status %q: want pending, delivered or failed", status)
			}
			if kind != "" && !filter.Kind.Valid() {
				return fmt.Errorf("--kind %q: want callout, email or note", kind)
			}
			return withStore(cmd.Context(), dsn, func(ctx context.Context, st *store.Store) error {
				jobs, err := st.List(ctx, filter)
				if err != nil {
					return err
				}
				printJobs(cmd.OutOrStdout(), jobs)
				return printOpenBreakers(ctx, cmd.OutOrStdout(), st)
			})
		},
	}
	list.Flags().StringVar(&status, "status", "", "only deliveries with this status")
	list.Flags().StringVar(&kind, "kind", "", "only jobs of this kind (callout, email, note)")
	list.Flags().StringVar(&filter.Callout, "callout", "", "only deliveries of this callout")
	list.Flags().IntVar(&filter.Limit, "limit", 100, "at most this many (≤ 1000)")
	list.Flags().StringVar(&filter.After, "after", "", "only deliveries whose ID sorts after this one (paging)")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one delivery with its attempts",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd.Context(), dsn, func(ctx context.Context, st *store.Store) error {
				j, attempts, err := st.Get(ctx, args[0])
				if err != nil {
					return err
				}
				printJob(cmd.OutOrStdout(), j, attempts)
				return nil
			})
		},
	}
	retry := newRetryCommand(&dsn)
	cmd.AddCommand(list, show, retry, newBreakersCommand(&dsn))
	return cmd
}

func withStore(ctx context.Context, dsn string, fn func(context.Context, *store.Store) error) error {
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	err = fn(ctx, st)
	if errors.Is(err, store.ErrNotFound) {
		return &exitError{code: exitFailure, err: fmt.Errorf("ruleflow: %w", err)}
	}
	return err
}

func printJobs(w io.Writer, jobs []store.Job) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSTATUS\tATTEMPTS\tCALLOUT\tRULE\tFORM\tENTRY\tCREATED\tLAST ERROR")
	for _, j := range jobs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\t%s\t%s\t%s\n", j.ID, j.Kind, j.Status, j.Attempts, j.MaxAttempts,
			j.Callout, j.Rule, j.Form, j.EntryID, j.CreatedAt.UTC().Format(time.RFC3339), clip(rules.MaskURLsIn(j.LastError), 60))
	}
	tw.Flush()
}

func printJob(w io.Writer, j store.Job, attempts []store.Attempt) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	row("id", j.ID)
	row("kind", string(j.Kind))
	row("status", string(j.Status))
	row("attempts", fmt.Sprintf("%d of %d", j.Attempts, j.MaxAttempts))
	row("callout", j.Callout)
	row("rule", j.Rule)
	row("form", j.Form)
	row("entry", j.EntryID)
	row("event", j.EventKind)
	row("parent", j.ParentID)
	row("created", stamp(j.CreatedAt))
	if j.Status == store.StatusPending {
		row("next attempt", stamp(j.NextAt))
	}
	row("last error", rules.MaskURLsIn(j.LastError))
	tw.Flush()
	if req := storedRequest(j); req != nil {
		bw := bufio.NewWriter(w)
		fmt.Fprintln(bw, "\nrequest:")
		writeRequest(bw, "", req, "  ")
		bw.Flush()
	}
	for _, a := range attempts {
		fmt.Fprintf(w, "\nattempt %d at %s, %s", a.N, stamp(a.StartedAt), a.Duration.Round(time.Microsecond))
		if a.StatusCode != 0 {
			fmt.Fprintf(w, ", status %d", a.StatusCode)
		}
		if a.Error != "" {
			fmt.Fprintf(w, ", error: %s", rules.MaskURLsIn(a.Error))
		}
		fmt.Fprintln(w)
		if len(a.Response) > 0 {
			fmt.Fprintf(w, "  response: %s\n", clip(string(a.Response), 200))
		}
	}
}

// storedRequest returns the rendered request of a callout delivery, nil for other
// jobs or an unreadable payload.
func storedRequest(j store.Job) *callouts.Request {
	if j.Kind != store.KindCallout {
		return nil
	}
	p, err := engine.DecodeDeliveryPayload(j.Payload)
	if err != nil {
		return nil
	}
	return p.Request
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// clip shortens s to n runes on one line.
func clip(s string, n int) string {
	out := make([]rune, 0, n)
	for _, r := range s {
		if r == '\n' || r == '\r' || r == '\t' {
			r = ' '
		}
		if len(out) == n {
			return string(out) + "…"
		}
		out = append(out, r)
	}
	return string(out)
}
