package callouts

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/ruleflow/ruleflow/rules"
)

// externalObjects are the members of an external event's payload that are objects
// (the Freshworks payload: data, headers, iparams). The event's record holds each
// as its JSON text, for the rules; a JSON callout nests them again.
var externalObjects = []string{"data", "headers", "iparams"}

// externalObject returns the JSON text v holds when name is an object member of an
// external event's payload, so that the JSON callout writes it as a nested object
// or array instead of a JSON-encoded string.
func (r *renderer) externalObject(name string, v any) ([]byte, bool) {
	if r.ev.Kind != rules.KindExternal || !slices.Contains(externalObjects, name) {
		return nil, false
	}
	s, ok := v.(string)
	if !ok {
		return nil, false
	}
	t := strings.TrimSpace(s)
	if t == "" || (t[0] != '{' && t[0] != '[') || !json.Valid([]byte(t)) {
		return nil, false
	}
	return []byte(t), true
}
