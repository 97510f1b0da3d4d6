package rules

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ruleflow/ruleflow/qualification"
)

// Inbound sources (callback functions and external-event target URLs) feed the
// standard callout data (design §5: id, number, status, …) through their own
// callout_fields, as a form does through its: a callback function's values name
// its arguments, a target's name a path of the event's record (data.issue.id,
// headers.X-Request-Id, iparams.project, or a top-level key such as account_id).

// externalTopLevel are the top-level keys of an external event's record.
var externalTopLevel = []string{"account_id", "domain", "event", "region", "timestamp", "data", "headers", "iparams"}

// externalPrefixes are the flattened sub-trees of an external event's record.
var externalPrefixes = []string{"data.", "headers.", "iparams."}

// CalloutSource returns the callout_fields and the schema (nil: dynamically
// typed) that the standard callout data of event ev are read through: those of
// the callback function for a callback event, of the target URL for an external
// event, else those of the event's form. ok is false when none is configured.
func (c *Config) CalloutSource(ev *Event) (cf CalloutFields, schema *qualification.Schema, ok bool) {
	switch ev.Kind {
	case KindCallback:
		if f, found := c.CallbackFunction(ev.Form); found {
			if c.idx != nil {
				schema = c.idx.schemas[f.APIName]
			}
			return f.CalloutFields, schema, true
		}
	case KindExternal:
		if t, found := c.Target(ev.Form); found {
			return t.CalloutFields, nil, true
		}
	}
	if f, found := c.Form(ev.Form); found {
		return f.CalloutFields, f.Schema, true
	}
	return CalloutFields{}, nil, false
}

// externalPathProblem describes what is wrong with a path of an external event's
// record, or returns "".
func externalPathProblem(path string) string {
	if slices.Contains(externalTopLevel, path) {
		return ""
	}
	for _, p := range externalPrefixes {
		if rest, ok := strings.CutPrefix(path, p); ok && rest != "" && !strings.HasPrefix(rest, ".") && !strings.HasSuffix(rest, ".") {
			return ""
		}
	}
	return fmt.Sprintf("%q is not a path of the external event (want data.<path>, headers.<Name>, iparams.<name> or one of %s)", path, strings.Join(externalTopLevel, ", "))
}

// checkCallbackCalloutFields checks that a callback function's callout_fields
// name its arguments.
func (d *decoder) checkCallbackCalloutFields(f *CallbackFunction) {
	for _, e := range f.CalloutFields.Entries() {
		if e.Field == "" {
			continue
		}
		if _, ok := f.Parameters[e.Field]; !ok {
			d.errAt(&f.CalloutFields, e.Key, "callout_fields %s: %q is not an argument of callback function %q%s", e.Key, e.Field, f.APIName, didYouMean(e.Field, slices.Sorted(maps.Keys(f.Parameters))))
		}
	}
}

// checkTargetCalloutFields checks that a target URL's callout_fields name paths of
// its external events.
func (d *decoder) checkTargetCalloutFields(t *TargetURL) {
	for _, e := range t.CalloutFields.Entries() {
		if e.Field == "" {
			continue
		}
		if msg := externalPathProblem(e.Field); msg != "" {
			d.errAt(&t.CalloutFields, e.Key, "callout_fields %s: %s", e.Key, msg)
		}
	}
}
