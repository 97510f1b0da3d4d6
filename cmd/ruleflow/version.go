package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ruleflow/ruleflow/engine"
)

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the ruleflow version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "ruleflow "+engine.Version())
			return err
		},
	}
}
