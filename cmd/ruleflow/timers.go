package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ruleflow/ruleflow/engine/httpapi"
	"github.com/ruleflow/ruleflow/engine/store"
)

func newTimersCommand() *cobra.Command {
	var dsn string
	cmd := &cobra.Command{
		Use:   "timers list",
		Short: "Inspect the timers of time-based rules",
		Long: `Timers lists the timers that time-based rules (events: [time]) armed in the
store: one per rule and record, due at the anchor field's value plus the rule's
offset (and again every repeat interval, up to repeat max), earliest due first.`,
	}
	cmd.PersistentFlags().StringVar(&dsn, "store", defaultStore, "store DSN: sqlite:PATH or postgres://...")
	var f store.TimerFilter
	var state, format string
	list := &cobra.Command{
		Use:   "list [--form FORM] [--entry-id ID] [--rule NAME] [--state armed|done|all] [--limit N] [--format text|json]",
		Short: "List timers, earliest due first (armed ones unless --state says otherwise)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch state {
			case "", "armed":
			case "done":
				f.State = store.TimerDone
			case "all":
				f.All = true
			default:
				return fmt.Errorf("--state %q: want armed, done or all", state)
			}
			if format != "text" && format != "json" {
				return fmt.Errorf("--format %q: want text or json", format)
			}
			return withStore(cmd.Context(), dsn, func(ctx context.Context, st *store.Store) error {
				ts, err := st.ListTimers(ctx, f)
				if err != nil {
					return err
				}
				if format == "json" {
					enc := json.NewEncoder(cmd.OutOrStdout())
					for _, t := range ts {
						if err := enc.Encode(httpapi.TimerOf(t)); err != nil {
							return err
						}
					}
					return nil
				}
				printTimers(cmd.OutOrStdout(), ts)
				return nil
			})
		},
	}
	fl := list.Flags()
	fl.StringVar(&f.Form, "form", "", "only timers of records of this form")
	fl.StringVar(&f.EntryID, "entry-id", "", "only timers of this record")
	fl.StringVar(&f.Rule, "rule", "", "only timers of this rule")
	fl.StringVar(&state, "state", "armed", "armed, done or all")
	fl.IntVar(&f.Limit, "limit", 100, "at most this many (≤ 1000)")
	fl.IntVar(&f.Offset, "offset", 0, "skip this many first (paging)")
	fl.StringVar(&format, "format", "text", "output format: text (a table) or json (one object per line)")
	cmd.AddCommand(list)
	return cmd
}

func printTimers(w io.Writer, ts []store.Timer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DUE\tSTATE\tRULE\tFORM\tENTRY\tREPETITION\tFIRED\tANCHOR\tARMED BY")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\t%d\t%s\t%s\n", t.DueAt.UTC().Format(time.RFC3339), t.State, t.Rule, t.Form, t.EntryID,
			min(t.Repetition+1, t.Repetitions), t.Repetitions, t.Fired, t.Anchor.UTC().Format(time.RFC3339), t.ArmedBy+" at "+t.ArmedAt.UTC().Format(time.RFC3339))
	}
	tw.Flush()
}
