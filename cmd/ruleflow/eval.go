package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/ruleflow/ruleflow/qualification"
	"github.com/ruleflow/ruleflow/rules"
)

// evalOptions are the flags of `ruleflow eval`.
type evalOptions struct {
	config, form    string
	event           string
	record, before  string
	user, server    string
	groups          []string
	now, timezone   string
	nulls           string
	caseInsensitive bool
	sets            []string // --set FIELD=EXPR, see actions.go

	// Which of timezone, nulls and case-insensitive were given on the command
	// line; the others default to the configuration file's settings.
	tzSet, nullsSet, foldSet bool
}

func newEvalCommand() *cobra.Command {
	var o evalOptions
	cmd := &cobra.Command{
		Use:   "eval [flags] [QUALIFICATION]",
		Short: "Evaluate a qualification against a record and print true or false",
		Long: `Evaluate an AR System-style qualification against one record and print true or false.

The record (--record, the values after the transaction) and the stored values
(--before) are JSON objects keyed by field name, given inline or as @file.
With --config and --form the qualification is checked against the form's
fields and JSON values are converted by field type (date-times from RFC 3339
strings, selections by option name or index).

With --set FIELD=EXPRESSION (repeatable) the value a rule's set would give
FIELD is printed as "FIELD = VALUE"; the qualification is then optional.

Exit status: 0 after printing the result, 2 for an invalid qualification or expression
(the positioned error is printed on stderr), 1 for bad flags, unreadable
files or a failed evaluation.`,
		Example: `  ruleflow eval --record '{"Status":"New","Priority":3}' "'Status' = \"New\" AND 'Priority' >= 2"
  ruleflow eval --config ruleflow.yaml --form Ticket --event update \
      --before '{"Status":"New"}' --record '{"Status":"Complete"}' "'TR.Status' = \"Complete\""
  ruleflow eval --user jsmith --record @ticket.json "'Assignee' = \$USER\$"`,
		Args: cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.tzSet = cmd.Flags().Changed("timezone")
			o.nullsSet = cmd.Flags().Changed("nulls")
			o.foldSet = cmd.Flags().Changed("case-insensitive")
			if len(args) == 0 && len(o.sets) == 0 {
				return errors.New("eval needs a QUALIFICATION or --set FIELD=EXPRESSION")
			}
			src := ""
			if len(args) == 1 {
				src = args[0]
			}
			return runEval(cmd.OutOrStdout(), &o, src)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "configuration `file` whose forms: section gives the field schema")
	f.StringVar(&o.form, "form", "", "form `name` in --config (optional when the file has one form)")
	f.StringVar(&o.event, "event", "", "event `kind`: create, update, delete, callback or external (default update with --before, else create)")
	f.StringVar(&o.record, "record", "", "record after the transaction: a JSON object or @file (on delete: the deleted record)")
	f.StringVar(&o.before, "before", "", "stored record before the transaction: a JSON object or @file")
	f.StringVar(&o.user, "user", "", "user for $USER$")
	f.StringVar(&o.server, "server", "", "server name for $SERVER$")
	f.StringSliceVar(&o.groups, "groups", nil, "groups for $GROUPS$ (comma separated)")
	f.StringVar(&o.now, "now", "", "event `time` for $TIMESTAMP$, $DATE$... (RFC 3339 or another date-time literal format; default: now)")
	f.StringVar(&o.timezone, "timezone", "UTC", "`zone` for date-time literals and $DATE$, $TIME$, $WEEKDAY$ (default: the config's timezone, else UTC)")
	f.StringVar(&o.nulls, "nulls", "workflow", "NULL semantics: workflow or search (default: the config's nulls, else workflow)")
	f.BoolVar(&o.caseInsensitive, "case-insensitive", false, "compare strings and LIKE ignoring case (default: the config's case_insensitive)")
	f.StringArrayVar(&o.sets, "set", nil, "`FIELD=EXPRESSION`: print the value a rule's set would give FIELD (repeatable; the QUALIFICATION is then optional)")
	return cmd
}

// runEval does the work of `ruleflow eval`.
func runEval(stdout io.Writer, o *evalOptions, src string) error {
	if o.config != "" {
		if err := o.configDefaults(); err != nil {
			return err
		}
	}
	nulls, err := qualification.ParseNullMode(o.nulls)
	if err != nil {
		return fmt.Errorf("--nulls: %w", err)
	}
	loc, err := time.LoadLocation(o.timezone)
	if err != nil {
		return fmt.Errorf("--timezone: unknown time zone %q", o.timezone)
	}
	schema, err := evalSchema(o.config, o.form)
	if err != nil {
		return err
	}
	kind := rules.Kind(strings.ToLower(o.event))
	if kind == "" {
		kind = rules.KindCreate
		if o.before != "" {
			kind = rules.KindUpdate
		}
	}
	if !kind.Valid() {
		return fmt.Errorf("--event: unknown event kind %q (want create, update, delete, callback or external)", o.event)
	}
	now := time.Now()
	if o.now != "" {
		t, ok := qualification.ParseDateTime(o.now, loc)
		if !ok {
			return fmt.Errorf("--now: cannot read %q as a date-time (want %s)", o.now, qualification.DateFormats)
		}
		now = t
	}
	after, err := readRecord("--record", o.record, schema, loc)
	if err != nil {
		return err
	}
	before, err := readRecord("--before", o.before, schema, loc)
	if err != nil {
		return err
	}
	qopts := qualification.Options{Schema: schema, Nulls: nulls, CaseInsensitive: o.caseInsensitive, Location: loc}
	var prog *qualification.Program
	if src != "" {
		if prog, err = qualification.Compile(src, qopts); err != nil {
			return &exitError{code: exitInvalid, err: err}
		}
	}
	sets, err := compileSets(o.sets, schema, qopts)
	if err != nil {
		return err
	}
	in := &qualification.Input{
		Operation: string(kind), Before: before, After: after,
		User: o.user, Groups: o.groups, Server: o.server, Now: now,
	}
	switch kind {
	case rules.KindDelete:
		if in.Before == nil {
			in.Before = after
		}
		in.After = nil
	case rules.KindCreate, rules.KindCallback, rules.KindExternal:
		in.Before = nil
	}
	if schema != nil {
		in.Form = schema.Name
	}
	env := qualification.NewEnv(in)
	if prog != nil {
		ok, err := prog.Eval(env)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(stdout, ok); err != nil {
			return err
		}
	}
	return printSets(stdout, sets, env, loc)
}

// configDefaults takes timezone, nulls and case_insensitive from the
// configuration file unless they were given as flags.
func (o *evalOptions) configDefaults() error {
	data, err := os.ReadFile(o.config)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	var top struct {
		Timezone        string `yaml:"timezone"`
		Nulls           string `yaml:"nulls"`
		CaseInsensitive bool   `yaml:"case_insensitive"`
	}
	if err := yaml.Unmarshal(data, &top); err != nil {
		return fmt.Errorf("--config: %s: %s", o.config, strings.TrimRight(yaml.FormatError(err, false, true), "\n"))
	}
	if !o.tzSet && top.Timezone != "" {
		o.timezone = top.Timezone
	}
	if !o.nullsSet && top.Nulls != "" {
		o.nulls = top.Nulls
	}
	if !o.foldSet {
		o.caseInsensitive = top.CaseInsensitive
	}
	return nil
}

// evalSchema loads the schema of form from the configuration file config.
func evalSchema(config, form string) (*qualification.Schema, error) {
	if config == "" {
		if form != "" {
			return nil, errors.New("--form needs --config")
		}
		return nil, nil
	}
	forms, err := rules.LoadForms(config)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	names := slices.Sorted(maps.Keys(forms))
	if form == "" {
		if len(forms) == 1 {
			return forms[names[0]], nil
		}
		return nil, fmt.Errorf("--form is required: %s defines %d forms (%s)", config, len(forms), strings.Join(names, ", "))
	}
	s, ok := forms[form]
	if !ok {
		return nil, fmt.Errorf("--form: %s has no form %q (forms: %s)", config, form, strings.Join(names, ", "))
	}
	return s, nil
}

// readRecord reads a JSON object given inline or as @file and decodes it with
// rules.DecodeRecord, the decoder of replay and the HTTP API (by the schema's
// field types when there is one).
func readRecord(flag, arg string, schema *qualification.Schema, loc *time.Location) (map[string]any, error) {
	if arg == "" {
		return nil, nil
	}
	data := []byte(arg)
	if name, ok := strings.CutPrefix(arg, "@"); ok {
		var err error
		if data, err = os.ReadFile(name); err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
	}
	rec, err := rules.DecodeRecord(data, schema, loc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return rec, nil
}
