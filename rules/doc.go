// Package rules holds what an administrator configures — forms (field schemas),
// callouts, workflow rules, AR webhooks, callback functions and external-event target
// URLs — together with the Event and Record model and the matching of an event to the
// rules that fire.
//
// # Loading
//
// Load and Parse read the YAML configuration (design §4) with a hand-written walk over
// the goccy/go-yaml syntax tree: keys are strict (unknown and duplicate keys are
// errors), forms and their fields keep file order, ${NAME} references are expanded,
// defaults are applied, every reference is resolved and every condition is compiled.
// All problems of a file are reported together as an ErrorList of *Error values, each
// positioned at the offending YAML node — for a condition, at the offending token
// inside the YAML string — and printed as "file:line:col: message" with the source
// line and a caret (ErrorList.Error shows the first and the count, as go/scanner's
// does; range over the list for the whole report). A YAML syntax error is fatal and
// reported alone.
//
// # Lifecycle
//
// A Config returned by Load, Parse or WithWebhooks is immutable and safe for
// concurrent use: its rules are indexed by (form, kind), so Match evaluates only the
// rules that can fire. WithWebhooks returns a new Config with webhooks registered at
// run time; the old one stays valid for callers still using it.
//
// # Events
//
// DecodeEvent and ReadEvents turn the JSON event form (design §2) into Events whose
// values are typed by the form's schema.
package rules
