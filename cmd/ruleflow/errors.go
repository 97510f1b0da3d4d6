package main

import (
	"errors"
	"strings"

	"github.com/ruleflow/ruleflow/qualification"
	"github.com/ruleflow/ruleflow/rules"
)

// errorText is err's text for the terminal. An error list's Error shows only the
// first error and the count (the go/scanner contract); the CLI shows every error,
// one after another, as go/scanner.PrintError does.
func errorText(err error) string {
	var errs []error
	if list, ok := errors.AsType[rules.ErrorList](err); ok {
		errs = list.Unwrap()
	} else if list, ok := errors.AsType[qualification.ErrorList](err); ok {
		errs = list.Unwrap()
	}
	if len(errs) == 0 {
		return err.Error()
	}
	texts := make([]string, len(errs))
	for i, e := range errs {
		texts[i] = e.Error()
	}
	return strings.Join(texts, "\n")
}
