package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ruleflow/ruleflow/rules"
)

// newCheckCommand returns `ruleflow check CONFIG`: it loads and validates a
// configuration file and prints a one-line summary, or every error found, each as
// "file:line:col: message" with the offending source line and a caret.
func newCheckCommand() *cobra.Command {
	var printSchema bool
	cmd := &cobra.Command{
		Use:   "check CONFIG",
		Short: "Validate a configuration file",
		Long: `Check loads CONFIG as ruleflow serve would: it decodes the YAML strictly,
expands ${ENV} references, compiles every condition against its form and checks
every reference between forms, rules, callouts and webhooks.

On success it prints a one-line summary and exits 0. Otherwise it prints every
error as file:line:col: message with the source line and a caret, and exits 1.

With --print-schema it prints the JSON Schema of the configuration file instead.`,
		Example: "  ruleflow check testdata/demo/ruleflow.yaml\n  ruleflow check --print-schema > ruleflow.schema.json",
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
			_, err = fmt.Fprintln(cmd.OutOrStdout(), cfg.Summary())
			return err
		},
	}
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
