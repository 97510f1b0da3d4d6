package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/engine/store"
)

func newHistoryCommand() *cobra.Command {
	var dsn, format string
	var f store.HistoryFilter
	cmd := &cobra.Command{
		Use:   "history [--store DSN] [--format text|json] [--limit N] [--after CURSOR] FORM ENTRY",
		Short: "Show why a record's events fired callouts, or did not",
		Long: `History shows the event history of one record, newest first: for every event the
engine handled, the rules it was run through and how each came out (true, false,
or the error that kept it from being evaluated), the callouts they fired with
their delivery IDs, the callouts skipped and why (rule false, rule inactive,
callout inactive, UDF empty, render error, event rejected), the values the rules
set and the rejection. The history is kept in the outbox store for history.keep
(30 days by default). --format json prints what GET /v1/history answers.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("--format %q: want text or json", format)
			}
			if f.Limit < 1 || f.Limit > 1000 {
				return fmt.Errorf("--limit %d: want 1 to 1000", f.Limit)
			}
			f.Form, f.EntryID = args[0], args[1]
			return withStore(cmd.Context(), dsn, func(ctx context.Context, st *store.Store) error {
				recs, err := st.History(ctx, f)
				if err != nil {
					return err
				}
				entries := make([]engine.HistoryEntry, 0, len(recs))
				for _, r := range recs {
					h, err := engine.DecodeHistory(r)
					if err != nil {
						return err
					}
					entries = append(entries, h)
				}
				next := ""
				if len(entries) == f.Limit {
					next = entries[len(entries)-1].ID
				}
				if format == "json" {
					b, err := json.MarshalIndent(struct {
						History []engine.HistoryEntry `json:"history"`
						Next    string                `json:"next,omitempty"`
					}{entries, next}, "", "  ")
					if err != nil {
						return err
					}
					_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", b)
					return err
				}
				printHistory(cmd.OutOrStdout(), f, entries, next)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&dsn, "store", defaultStore, "outbox DSN: sqlite:PATH or postgres://...")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().IntVar(&f.Limit, "limit", 20, "at most this many events (≤ 1000)")
	cmd.Flags().StringVar(&f.Before, "after", "", "the cursor a previous page printed: older events")
	return cmd
}

// printHistory writes entries as text, one block per event.
func printHistory(w io.Writer, f store.HistoryFilter, entries []engine.HistoryEntry, next string) {
	if len(entries) == 0 {
		fmt.Fprintf(w, "no history for %s %s\n", f.Form, f.EntryID)
		return
	}
	for i, h := range entries {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s  %s  %s %s %s\n", h.Time.Format("2006-01-02T15:04:05.000Z07:00"), h.ID, h.Kind, h.Form, h.EntryID)
		printHistoryTimer(w, h.Timer)
		if h.Rejected != nil {
			fmt.Fprintf(w, "  rejected by rule %q: %s\n", h.Rejected.Rule, h.Rejected.Message)
		}
		if len(h.Rules) == 0 {
			fmt.Fprintln(w, "  no rule for this form and event")
		}
		for _, r := range h.Rules {
			line := "  rule " + fmt.Sprintf("%q", r.Name) + ": " + r.Outcome
			if r.Error != "" {
				line += " (" + r.Error + ")"
			}
			if r.Reason != "" {
				line += " (" + r.Reason + ")"
			}
			fmt.Fprintln(w, line)
		}
		for _, c := range h.Callouts {
			var b strings.Builder
			fmt.Fprintf(&b, "  callout %q (rule %q): ", c.Name, c.Rule)
			if c.Skipped {
				b.WriteString("skipped: " + c.Reason)
				if c.DeliveryID != "" {
					b.WriteString(" (delivery " + c.DeliveryID + ")")
				}
			} else {
				b.WriteString("fired, delivery " + c.DeliveryID)
			}
			fmt.Fprintln(w, b.String())
		}
		if len(h.Set) > 0 && string(h.Set) != "{}" {
			fmt.Fprintf(w, "  set %s\n", h.Set)
		}
		for _, l := range h.Limited {
			fmt.Fprintf(w, "  limited: rule %q: %s\n", l.Rule, l.Reason)
		}
	}
	if next != "" {
		fmt.Fprintf(w, "\nmore: --after %s\n", next)
	}
}

// printHistoryTimer writes the timer line of an entry of kind time (none for nil).
func printHistoryTimer(w io.Writer, t *engine.HistoryTimer) {
	if t == nil {
		return
	}
	const layout = "2006-01-02T15:04:05.999Z07:00"
	line := fmt.Sprintf("  timer due %s (anchor %s, repetition %d): ", t.Due.UTC().Format(layout), t.Anchor.UTC().Format(layout), t.Repetition)
	if t.Fired {
		line += "fired"
	} else {
		line += "not fired: " + t.Reason
	}
	if t.Next != nil {
		line += "; next due " + t.Next.UTC().Format(layout)
	}
	fmt.Fprintln(w, line)
}
