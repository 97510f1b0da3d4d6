package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// maxSecretLen bounds the password read from stdin.
const maxSecretLen = 64 << 10

// newSecretCommand builds `ruleflow secret`, the parent of the secret tools.
func newSecretCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secret",
		Short: "Encrypt passwords for the configuration file",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newSecretEncryptCommand())
	return cmd
}

// newSecretEncryptCommand builds `ruleflow secret encrypt`: it reads a password on
// stdin (the first line, without its line ending; from a terminal without echo)
// and prints it encrypted as enc:v1:..., for use as a callout or SMTP password.
func newSecretEncryptCommand() *cobra.Command {
	var keyFile, dsn string
	cmd := &cobra.Command{
		Use:   "encrypt",
		Short: "Read a password on stdin and print it encrypted (enc:v1:...)",
		Long: `Read a password on stdin and print it encrypted with AES-256-GCM as enc:v1:...

The key is RULEFLOW_KEY (32 bytes as 64 hex characters or base64) when it is set,
otherwise the key file the engine uses: the one beside the SQLite store named by
--store (ruleflow.db → ruleflow.db.key), or --key-file. It is created with a random
key and mode 0600 if it does not exist. A PostgreSQL store has no key file: set
RULEFLOW_KEY, the same on every node. Only the first line of stdin is used; from a
terminal the password is read without echo.`,
		Example: `  printf '%s\n' "$RMM_PASSWORD" | ruleflow secret encrypt --store sqlite:/var/lib/ruleflow/ruleflow.db`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := rules.LoadKey(keyFileFor(dsn, keyFile))
			if err != nil {
				return err
			}
			plain, err := readSecret(cmd.InOrStdin(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			enc, err := key.Encrypt(plain)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), enc)
			return err
		},
	}
	cmd.Flags().StringVar(&dsn, "store", defaultStore, "the store whose key file is used when "+rules.KeyEnv+" is unset")
	cmd.Flags().StringVar(&keyFile, "key-file", "", "key file used when "+rules.KeyEnv+" is unset, instead of the store's (created, mode 0600, if absent)")
	return cmd
}

// defaultStore is the outbox every command uses when --store is not given.
const defaultStore = "sqlite:ruleflow.db"

// keyFileFor is the key file the engine uses for store dsn when RULEFLOW_KEY is
// unset: override if given, else the one beside a SQLite store, else none.
func keyFileFor(dsn, override string) string {
	if override != "" {
		return override
	}
	if d, err := store.ParseDSN(dsn); err == nil {
		return d.KeyFile()
	}
	return ""
}

// readSecret reads the password: from a terminal without echo after a prompt on
// prompt, otherwise the first line of in without its trailing "\n" or "\r\n".
func readSecret(in io.Reader, prompt io.Writer) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(prompt, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if len(b) == 0 {
			return "", errors.New("empty password")
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(io.LimitReader(in, maxSecretLen+2)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read password: %w", err)
	}
	if err == io.EOF && line == "" {
		return "", errors.New("no password on stdin")
	}
	line = strings.TrimSuffix(line, "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", errors.New("empty password")
	}
	if len(line) > maxSecretLen {
		return "", fmt.Errorf("password longer than %d bytes", maxSecretLen)
	}
	return line, nil
}
