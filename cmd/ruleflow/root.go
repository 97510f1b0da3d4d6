package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes of the ruleflow command.
const (
	exitOK      = 0 // success
	exitFailure = 1 // bad flags, unreadable files, failed operations
	exitInvalid = 2 // an invalid qualification (eval)
)

// exitError carries a specific exit code out of a command's RunE.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// subcommands lists the constructors of the subcommands, each defined in its own
// file. Add a new subcommand by adding its constructor here.
func subcommands() []func() *cobra.Command {
	return []func() *cobra.Command{
		newBenchCommand,
		newCheckCommand,
		newEvalCommand,
		newReplayCommand,
		newDeliveriesCommand,
		newHistoryCommand,
		newSecretCommand,
		newServeCommand,
		newTimersCommand,
		newVersionCommand,
	}
}

// newRootCommand builds the ruleflow command tree writing to stdout and stderr.
func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "ruleflow",
		Short:         "Workflow rules and durable callouts for ticketing systems",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	for _, newCmd := range subcommands() {
		root.AddCommand(newCmd())
	}
	return root
}

// run executes the command line args and returns the process exit code. Errors
// are printed to stderr: "ruleflow: <message>", or a positioned qualification
// error as is.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	// SIGINT and SIGTERM cancel the command's context: a command stops its work and
	// shuts down (serve drains its requests and deliveries; SIGHUP there reloads).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		fmt.Fprintln(stderr, errorText(ee.err))
		return ee.code
	}
	fmt.Fprintln(stderr, "ruleflow: "+err.Error())
	return exitFailure
}
