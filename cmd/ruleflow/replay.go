package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ruleflow/ruleflow/callouts"
	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// progressThreshold is how many events a replay needs before it shows a progress
// bar (on a terminal only).
const progressThreshold = 2000

type replayOptions struct {
	config  string
	format  string
	send    bool
	store   string
	keyFile string
	wait    time.Duration
	until   string
}

func newReplayCommand() *cobra.Command {
	var o replayOptions
	cmd := &cobra.Command{
		Use:   "replay --config FILE [--format text|json] [--send --store DSN [--wait DUR]] FIXTURE.jsonl...",
		Short: "Run recorded events through the rules and show what fires",
		Long: `Replay reads events (one JSON object per line, design §2) and runs each through
the rules. A dry run (the default) prints, for each event, the rules that fired, the
callouts they fire with the rendered request (method, URL, headers with credentials
masked, body), and the callouts that did not fire and why. Keywords such as
$TIMESTAMP$ take the event's time, so a replay is deterministic.

With --send the deliveries are stored in the outbox (--store) and delivered for real,
with retries and notification e-mails; replay exits when the outbox is drained or
--wait expires, and prints a summary.

Time-based rules (events: [time]) run on a virtual clock in a dry run: each event
arms its timers as the engine would, and before each event the timers due before
its time fire in due order, as
  timer "RULE" fired for FORM ENTRY at TIME (armed by FILE:LINE)
or
  timer "RULE" for FORM ENTRY at TIME (armed by FILE:LINE) not fired: condition false
--until TIME (RFC 3339) advances the clock after the last event, firing the timers
due up to and including TIME. With --send the timers are armed in the store and
fired by the engines on it (ruleflow serve), on the real clock.

Malformed lines are reported as FILE:LINE: message; the other events are still
replayed, and the exit status is 1.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReplay(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "configuration file (required)")
	f.StringVar(&o.format, "format", "text", "output format: text or json (one object per fired callout, and per event that set values or was rejected)")
	f.BoolVar(&o.send, "send", false, "enqueue and deliver the callouts for real")
	f.StringVar(&o.store, "store", defaultStore, "outbox DSN for --send: sqlite:PATH or postgres://...")
	f.StringVar(&o.keyFile, "key-file", "", "with --send: secrets key file when RULEFLOW_KEY is unset (default: beside the SQLite store)")
	f.DurationVar(&o.wait, "wait", 5*time.Minute, "with --send: how long to wait for the outbox to drain")
	f.StringVar(&o.until, "until", "", "dry run: after the last event, advance the virtual clock to this RFC 3339 time, firing the timers due by then")
	cmd.MarkFlagRequired("config")
	return cmd
}

// replayStats counts what a replay saw.
type replayStats struct {
	events, badLines, rulesFired, fired, skipped, ruleErrors, renderErrors int
	valuesSet, rejected                                                    int
	deliveryIDs                                                            []string
	timersFired, timersNotFired                                            int

	clock *engine.VirtualClock // the dry run's virtual clock for time-based rules; nil with --send
}

func runReplay(ctx context.Context, stdout, stderr io.Writer, o replayOptions, fixtures []string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.format != "text" && o.format != "json" {
		return fmt.Errorf("--format %q: want text or json", o.format)
	}
	var until time.Time
	if o.until != "" {
		t, err := time.Parse(time.RFC3339Nano, o.until)
		if err != nil {
			return fmt.Errorf("--until %q: want an RFC 3339 time such as 2026-11-20T17:00:00Z", o.until)
		}
		if o.send {
			return errors.New("--until runs the virtual clock of a dry run; with --send the timers fire on the real clock")
		}
		until = t
	}
	cfg, err := rules.Load(o.config)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	opts := engine.Options{Config: cfg, Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if o.send {
		opts.Store, opts.KeyFile = o.store, o.keyFile
	}
	eng, err := engine.Open(ctx, opts)
	if err != nil {
		return err
	}
	defer func() {
		// Deliveries still running after replayShutdownTimeout are cut off; each is
		// recorded and stays due in the outbox for `ruleflow serve`.
		sctx, cancel := context.WithTimeout(context.Background(), replayShutdownTimeout)
		defer cancel()
		eng.Shutdown(sctx)
	}()

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	bar := newProgress(stderr, fixtures)
	var st replayStats
	if !o.send {
		st.clock = eng.NewVirtualClock()
	}
	for _, name := range fixtures {
		if err := replayFile(ctx, eng, cfg, name, o, out, stderr, bar, &st); err != nil {
			return err
		}
	}
	if !until.IsZero() {
		if err := advanceReplay(out, cfg, o, &st, until, true); err != nil {
			return err
		}
	}
	if bar != nil {
		bar.Finish()
	}
	summary := fmt.Sprintf("%d events, %d rules fired, %d callouts fired, %d skipped", st.events, st.rulesFired, st.fired, st.skipped)
	if st.valuesSet > 0 || st.rejected > 0 {
		summary += fmt.Sprintf(", %d values set, %d saves rejected", st.valuesSet, st.rejected)
	}
	if st.ruleErrors > 0 {
		summary += fmt.Sprintf(", %d rule errors", st.ruleErrors)
	}
	if st.renderErrors > 0 {
		summary += fmt.Sprintf(", %d events with callouts not rendered", st.renderErrors)
	}
	if st.timersFired > 0 || st.timersNotFired > 0 {
		summary += fmt.Sprintf(", %d timers fired, %d not fired", st.timersFired, st.timersNotFired)
	}
	if st.badLines > 0 {
		summary += fmt.Sprintf(", %d bad lines", st.badLines)
	}
	if o.format == "text" {
		fmt.Fprintln(out, summary)
	}
	failed := st.badLines > 0
	if o.send {
		out.Flush()
		ok, err := awaitDelivery(ctx, eng, o.wait, st.deliveryIDs, out)
		if err != nil {
			return err
		}
		failed = failed || !ok
	}
	if failed {
		out.Flush()
		return &exitError{code: exitFailure, err: errors.New("replay: " + summary)}
	}
	return nil
}

func replayFile(ctx context.Context, eng *engine.Engine, cfg *rules.Config, name string, o replayOptions, out *bufio.Writer, stderr io.Writer, bar *progressbar.ProgressBar, st *replayStats) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return cfg.ReadEvents(f, name, func(line int, ev *rules.Event, err error) error {
		if bar != nil {
			bar.Add(1)
		}
		if err != nil {
			st.badLines++
			out.Flush()
			fmt.Fprintln(stderr, err)
			return nil
		}
		st.events++
		if !ev.Time.IsZero() {
			if err := advanceReplay(out, cfg, o, st, ev.Time, false); err != nil {
				return err
			}
		}
		res, err := eng.Handle(ctx, ev)
		if err != nil {
			st.badLines++
			out.Flush()
			fmt.Fprintf(stderr, "%s:%d: %v\n", name, line, err)
			return nil
		}
		if st.clock != nil {
			st.clock.Observe(res, fmt.Sprintf("%s:%d", name, line))
		}
		st.rulesFired += len(res.Matches)
		st.valuesSet += len(res.Set)
		if res.Rejected != nil {
			st.rejected++
		}
		st.fired += len(res.Fired)
		for _, m := range res.Matches {
			st.skipped += len(m.Skipped)
		}
		if res.RuleErrors != nil {
			st.ruleErrors++
			out.Flush()
			fmt.Fprintf(stderr, "%s:%d: %v\n", name, line, res.RuleErrors)
		}
		if res.RenderErrors != nil {
			st.renderErrors++
			out.Flush()
			fmt.Fprintf(stderr, "%s:%d: %v\n", name, line, res.RenderErrors)
		}
		for _, fd := range res.Fired {
			if fd.DeliveryID != "" {
				st.deliveryIDs = append(st.deliveryIDs, fd.DeliveryID)
			}
		}
		if o.format == "json" {
			return writeReplayJSON(out, cfg, name, line, ev, res)
		}
		writeReplayText(out, cfg, name, line, ev, res)
		return nil
	})
}

// newProgress returns a progress bar on stderr when it is a terminal and the
// fixtures hold enough events to be worth one; otherwise nil.
func newProgress(stderr io.Writer, fixtures []string) *progressbar.ProgressBar {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	total := 0
	for _, name := range fixtures {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil
		}
		total += bytes.Count(data, []byte{'\n'})
	}
	if total < progressThreshold {
		return nil
	}
	return progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("replaying"),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
}

func writeReplayText(out *bufio.Writer, cfg *rules.Config, name string, line int, ev *rules.Event, res *engine.Result) {
	fmt.Fprintf(out, "%s:%d: %s %s %s", name, line, ev.Kind, ev.Form, ev.EntryID)
	if ev.User != "" {
		fmt.Fprintf(out, " by %s", ev.User)
	}
	fmt.Fprintf(out, " at %s", ev.Time.UTC().Format(time.RFC3339))
	if len(res.Matches) == 0 {
		fmt.Fprintln(out, ": no rule fired")
		return
	}
	fmt.Fprintln(out)
	fired := res.Fired
	for _, m := range res.Matches {
		fmt.Fprintf(out, "  rule %q fired\n", m.Rule.Name)
		fired = writeMatchText(out, m, fired)
	}
	writeActionsText(out, res, cfg.Location)
}

// writeMatchText prints the actions and callouts of one rule that fired, taking
// their deliveries from the front of fired, and returns the rest of fired.
func writeMatchText(out *bufio.Writer, m rules.Match, fired []engine.Fired) []engine.Fired {
	writeRuleActionsText(out, m.Rule)
	for _, c := range m.Fire {
		fd := fired[0]
		fired = fired[1:]
		if fd.Request == nil {
			fmt.Fprintf(out, "    callout %q (%s) not rendered: %s", c.Name, c.Format, fd.RenderError)
		} else {
			fmt.Fprintf(out, "    callout %q (%s %s)", c.Name, c.Format, fd.Request.Method)
		}
		if fd.DeliveryID != "" {
			fmt.Fprintf(out, " delivery %s", fd.DeliveryID)
		}
		fmt.Fprintln(out)
		if fd.Request != nil {
			writeRequest(out, c.Username, fd.Request, "      ")
		}
	}
	for _, s := range m.Skipped {
		fmt.Fprintf(out, "    callout %q not fired: %s\n", s.Callout.Name, s.Reason)
	}
	return fired
}

// displayHeaders returns the headers a request is sent with, in a stable order,
// with the credentials masked. req must already be masked (callouts.Request.Masked).
func displayHeaders(username string, req *callouts.Request) [][2]string {
	var hs [][2]string
	for _, k := range slices.Sorted(maps.Keys(req.Header)) {
		hs = append(hs, [2]string{k, req.Header[k]})
	}
	if username != "" {
		hs = append(hs, [2]string{"Authorization", "Basic " + rules.Masked})
	}
	return hs
}

// writeRequest prints req as replay and `deliveries show` show it: masked by
// callouts.Request.Masked, with a masked Authorization line when username is set.
func writeRequest(out *bufio.Writer, username string, req *callouts.Request, indent string) {
	req = req.Masked()
	fmt.Fprintf(out, "%s%s %s\n", indent, req.Method, req.URL)
	for _, h := range displayHeaders(username, req) {
		fmt.Fprintf(out, "%s%s: %s\n", indent, h[0], h[1])
	}
	if len(req.Body) > 0 {
		fmt.Fprintln(out)
		binary := 0 // bytes of the current run of binary lines
		for _, l := range strings.Split(strings.TrimRight(string(req.Body), "\n"), "\n") {
			l = strings.TrimRight(l, "\r")
			if !printable(l) {
				binary += len(l) + 1
				continue
			}
			if binary > 0 {
				fmt.Fprintf(out, "%s[%d bytes of binary data]\n", indent, binary)
				binary = 0
			}
			if l == "" {
				fmt.Fprintln(out)
				continue
			}
			fmt.Fprintf(out, "%s%s\n", indent, l)
		}
		if binary > 0 {
			fmt.Fprintf(out, "%s[%d bytes of binary data]\n", indent, binary)
		}
	}
}

// printable reports whether a body line can be shown on a terminal as it is: valid
// UTF-8 without control characters other than tab.
func printable(line string) bool {
	if !utf8.ValidString(line) {
		return false
	}
	for _, r := range line {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return false
		}
	}
	return true
}

// replayEvent names the fixture event a --format json line is about.
type replayEvent struct {
	File    string     `json:"file"`
	Line    int        `json:"line"`
	Event   rules.Kind `json:"event"`
	Form    string     `json:"form"`
	EntryID string     `json:"entry_id"`
}

func replayEventOf(file string, line int, ev *rules.Event) replayEvent {
	return replayEvent{File: file, Line: line, Event: ev.Kind, Form: ev.Form, EntryID: ev.EntryID}
}

// replayRecord is one fired callout in --format json.
type replayRecord struct {
	replayEvent
	Time       time.Time      `json:"time"`
	Rule       string         `json:"rule"`
	Callout    string         `json:"callout"`
	Format     rules.Format   `json:"format"`
	DeliveryID string         `json:"delivery_id,omitempty"`
	Request    *replayRequest `json:"request,omitempty"`
	// RenderError is set instead of Request when the callout could not be rendered.
	RenderError string `json:"render_error,omitempty"`
}

type replayRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

func writeReplayJSON(out *bufio.Writer, cfg *rules.Config, name string, line int, ev *rules.Event, res *engine.Result) error {
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	if err := writeFiredJSON(enc, replayEventOf(name, line, ev), ev.Time, res); err != nil {
		return err
	}
	return writeActionsJSON(enc, name, line, ev, res, cfg.Location)
}

// writeFiredJSON prints one --format json line per callout res fired, for the
// event re at time at.
func writeFiredJSON(enc *json.Encoder, re replayEvent, at time.Time, res *engine.Result) error {
	i := 0
	for _, m := range res.Matches {
		for _, c := range m.Fire {
			fd := res.Fired[i]
			i++
			rec := replayRecord{
				replayEvent: re, Time: at.UTC(),
				Rule: m.Rule.Name, Callout: c.Name, Format: c.Format, DeliveryID: fd.DeliveryID, RenderError: fd.RenderError,
			}
			if fd.Request != nil {
				req := fd.Request.Masked()
				hs := map[string]string{}
				for _, h := range displayHeaders(c.Username, req) {
					hs[h[0]] = h[1]
				}
				rec.Request = &replayRequest{Method: req.Method, URL: req.URL, Headers: hs, Body: string(req.Body)}
			}
			if err := enc.Encode(rec); err != nil {
				return err
			}
		}
	}
	return nil
}

// awaitDelivery waits until the outbox holds nothing pending (notification e-mails
// and notes included) or wait passes, then prints what became of the replay's
// deliveries. ok is false when some did not get delivered.
func awaitDelivery(ctx context.Context, eng *engine.Engine, wait time.Duration, ids []string, out *bufio.Writer) (bool, error) {
	st := eng.Store()
	deadline := time.Now().Add(wait)
	drained := false
	for {
		s, err := st.Stats(ctx, time.Now())
		if err != nil {
			return false, err
		}
		if s.Pending == 0 {
			drained = true
			break
		}
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	counts := map[store.Status]int{}
	mine := make(map[string]bool, len(ids))
	for _, id := range ids {
		mine[id] = true
		j, _, err := st.Get(ctx, id)
		if err != nil {
			return false, err
		}
		counts[j.Status]++
		if j.Status == store.StatusFailed {
			fmt.Fprintf(out, "failed: %s %s (rule %q, %s %s): %s\n", j.ID, j.Callout, j.Rule, j.Form, j.EntryID, j.LastError)
		}
	}
	mail := map[store.Status]int{}
	after := ""
	for {
		jobs, err := st.List(ctx, store.Filter{Kind: store.KindEmail, After: after, Limit: 1000})
		if err != nil {
			return false, err
		}
		for _, j := range jobs {
			if mine[j.ParentID] {
				mail[j.Status]++
			}
		}
		if len(jobs) < 1000 {
			break
		}
		after = jobs[len(jobs)-1].ID
	}
	fmt.Fprintf(out, "sent: %d deliveries: %d delivered, %d failed, %d pending; notification e-mails: %d sent, %d failed, %d pending\n",
		len(ids), counts[store.StatusDelivered], counts[store.StatusFailed], counts[store.StatusPending],
		mail[store.StatusDelivered], mail[store.StatusFailed], mail[store.StatusPending])
	if !drained {
		fmt.Fprintf(out, "the outbox was not drained within --wait %s; pending deliveries stay in the store and are retried by the next engine\n", wait)
	}
	return drained && counts[store.StatusFailed] == 0 && counts[store.StatusPending] == 0, nil
}

// replayShutdownTimeout bounds how long `replay --send` waits for its deliveries
// in flight when it ends.
const replayShutdownTimeout = 30 * time.Second

// advanceReplay fires the timers of the replay's virtual clock due before until (or
// at until too, when inclusive) and prints each.
func advanceReplay(out *bufio.Writer, cfg *rules.Config, o replayOptions, st *replayStats, until time.Time, inclusive bool) error {
	if st.clock == nil {
		return nil
	}
	return st.clock.Advance(until, inclusive, func(f engine.VirtualFiring) error {
		if f.Result == nil {
			st.timersNotFired++
		} else {
			st.timersFired++
			st.rulesFired++
			st.fired += len(f.Result.Fired)
			for _, m := range f.Result.Matches {
				st.skipped += len(m.Skipped)
			}
		}
		if o.format == "json" {
			if f.Result == nil {
				return nil
			}
			file, line := splitTag(f.ArmedBy)
			enc := json.NewEncoder(out)
			enc.SetEscapeHTML(false)
			re := replayEvent{File: file, Line: line, Event: rules.KindTime, Form: f.Form, EntryID: f.EntryID}
			return writeFiredJSON(enc, re, f.Due, f.Result)
		}
		at := f.Due.UTC().Format(time.RFC3339)
		if f.Result == nil {
			fmt.Fprintf(out, "timer %q for %s %s at %s (armed by %s) not fired: %s\n", f.Rule, f.Form, f.EntryID, at, f.ArmedBy, f.Cause)
			return nil
		}
		fmt.Fprintf(out, "timer %q fired for %s %s at %s (armed by %s)\n", f.Rule, f.Form, f.EntryID, at, f.ArmedBy)
		fired := f.Result.Fired
		for _, m := range f.Result.Matches {
			fired = writeMatchText(out, m, fired)
		}
		return nil
	})
}

// splitTag splits a FILE:LINE tag.
func splitTag(tag string) (string, int) {
	i := strings.LastIndexByte(tag, ':')
	if i < 0 {
		return tag, 0
	}
	n, err := strconv.Atoi(tag[i+1:])
	if err != nil {
		return tag, 0
	}
	return tag[:i], n
}
