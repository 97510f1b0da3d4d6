package engine

import (
	"context"
	"testing"
)

// timeRule is a time-based rule: the engine refuses it rather than load a rule that
// would never fire.
const timeRule = `
callouts:
  - {name: RMM, url: "{{URL}}/hook", format: name-value}
rules:
  - name: Stale
    form: Ticket
    events: [time]
    at: {field: LastActivityDate, offset: 2h}
    callouts: [RMM]
`

func TestTimeRulesRefused(t *testing.T) {
	const want = `rule "Stale": time-based rules (events: [time]) are not run by this engine yet`
	_, err := Open(context.Background(), Options{Config: parseConfig(t, "http://127.0.0.1:9", timeRule), Key: testKey(t), Logger: quietLogger()})
	if err == nil || err.Error() != want {
		t.Fatalf("Open = %v, want %q", err, want)
	}
	e := openEngine(t, Options{Config: parseConfig(t, "http://127.0.0.1:9", oneCallout)})
	before := e.Config()
	if err := e.Reload(parseConfig(t, "http://127.0.0.1:9", timeRule)); err == nil || err.Error() != want {
		t.Fatalf("Reload = %v, want %q", err, want)
	}
	if e.Config() != before {
		t.Error("a refused reload replaced the configuration")
	}
}
