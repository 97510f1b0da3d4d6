package engine

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ruleflow/ruleflow/rules"
)

// EventError is an event the engine refuses before it stores anything: its form or
// entry ID is text the outbox cannot hold. Index is the event's position in a batch
// (HandleBatch), or -1 for Handle.
type EventError struct {
	Index int
	Err   error
}

// Error names the event (in a batch) and the problem.
func (e *EventError) Error() string {
	if e.Index < 0 {
		return e.Err.Error()
	}
	return fmt.Sprintf("event %d: %v", e.Index, e.Err)
}

// Unwrap returns the problem.
func (e *EventError) Unwrap() error { return e.Err }

// checkStorable refuses an event whose text the outbox stores in TEXT columns (the
// form and the entry ID) with a NUL byte or invalid UTF-8: PostgreSQL cannot hold
// either, so on both stores such an event is refused before anything is written.
// Field values may hold any bytes: the rendered request is stored as bytes.
func checkStorable(ev *rules.Event) error {
	for _, f := range [...]struct{ name, value string }{{"form", ev.Form}, {"entry_id", ev.EntryID}} {
		switch {
		case strings.IndexByte(f.value, 0) >= 0:
			return fmt.Errorf("%s %q holds a NUL byte, which the store cannot hold", f.name, f.value)
		case !utf8.ValidString(f.value):
			return fmt.Errorf("%s %q is not valid UTF-8, which the store cannot hold", f.name, f.value)
		}
	}
	return nil
}
