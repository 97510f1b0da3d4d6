package callouts

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/qualification"
	"github.com/ruleflow/ruleflow/rules"
)

// helpDeskConfig is a configuration with one form of AR's enumerations and types.
func helpDeskConfig(t *testing.T) *rules.Config {
	t.Helper()
	s, err := qualification.NewSchema("HPD:Help Desk", []qualification.Field{
		{Name: "Status", ID: 7, Type: qualification.Selection, Options: []string{"New", "Assigned", "Closed"}, Values: []int64{0, 1, 5}},
		{Name: "Impact", ID: 1000000163, Type: qualification.Selection, Options: []string{"1-Extensive/Widespread", "2-Significant/Large"}, Values: []int64{1000, 2000}},
		{Name: "Cost", ID: 40, Type: qualification.Currency},
		{Name: "Work Log", ID: 41, Type: qualification.Diary},
		{Name: "Due", ID: 42, Type: qualification.Date},
		{Name: "Opens At", ID: 43, Type: qualification.Time},
		{Name: "Rate", ID: 44, Type: qualification.Decimal},
		{Name: "Ratio", ID: 45, Type: qualification.Real},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &rules.Config{Version: 1, Location: time.UTC, Forms: []*rules.Form{{Name: "HPD:Help Desk", Schema: s}}}
}

func helpDeskEvent() *rules.Event {
	ts := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	return &rules.Event{Kind: rules.KindCreate, Form: "HPD:Help Desk", EntryID: "000000000000001", Time: ts,
		After: rules.Record{
			"Status": "Closed", "Impact": "2-Significant/Large",
			"Cost": &qualification.CurrencyValue{Value: 25.99, Code: "USD", ConversionDate: ts,
				Functional: []qualification.FunctionalAmount{{Code: "EUR", Value: 20.14}, {Code: "USD", Value: 25.99}}},
			"Work Log": qualification.DiaryValue{{User: "Demo", Timestamp: ts, Text: "called \"user\""}, {Text: "no stamp"}},
			"Due":      time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), "Opens At": int64(13*3600 + 15*60 + 59), "Rate": 12.75, "Ratio": 0.012246,
		}}
}

// TestRenderJSONARTypes checks each AR data type as the AR REST API writes it in
// JSON, and selections by name (rule callouts) or by value (enum_format: value,
// the default of AR webhooks).
func TestRenderJSONARTypes(t *testing.T) {
	cfg := helpDeskConfig(t)
	const rest = `"Cost":{"decimal":25.99,"currency":"USD","conversionDate":"2026-11-20T09:30:00.000+0000","functionalValues":{"EUR":20.14,"USD":25.99}},` +
		`"Work Log":[{"user":"Demo","timestamp":"2026-11-20T09:30:00.000+0000","text":"called \"user\""},{"user":"","timestamp":null,"text":"no stamp"}],` +
		`"Due":"2026-12-01","Opens At":"13:15:59","Rate":12.75,"Ratio":0.012246}}`
	head := `{"webhook_id":"WBH1","entry_event":"create","form_name":"HPD:Help Desk","entry_id":"000000000000001","entry_details":`
	for _, tt := range []struct {
		format rules.EnumFormat
		want   string
	}{
		{"", head + `{"Status":"Closed","Impact":"2-Significant/Large",` + rest},
		{rules.EnumName, head + `{"Status":"Closed","Impact":"2-Significant/Large",` + rest},
		{rules.EnumValue, head + `{"Status":5,"Impact":2000,` + rest},
	} {
		c := &rules.Callout{Name: "hook", URL: "http://127.0.0.1:9/x", Method: "POST", Format: rules.FormatJSON, WebhookID: "WBH1", EnumFormat: tt.format}
		req, err := Render(cfg, c, helpDeskEvent())
		if err != nil {
			t.Fatal(err)
		}
		if string(req.Body) != tt.want {
			t.Errorf("enum_format %q:\n got %s\nwant %s", tt.format, req.Body, tt.want)
		}
		if !json.Valid(req.Body) {
			t.Errorf("invalid JSON: %s", req.Body)
		}
	}
}

// TestRenderJSONSelectionNumbers checks a selection held as a number in the record
// (its AR value) and one that is no option.
func TestRenderJSONSelectionNumbers(t *testing.T) {
	cfg := helpDeskConfig(t)
	ev := &rules.Event{Kind: rules.KindCreate, Form: "HPD:Help Desk", EntryID: "1", After: rules.Record{"Status": int64(5), "Impact": "Unknown"}}
	for format, want := range map[rules.EnumFormat]string{
		rules.EnumName:  `"entry_details":{"Status":"Closed","Impact":"Unknown"}`,
		rules.EnumValue: `"entry_details":{"Status":5,"Impact":"Unknown"}`,
	} {
		c := &rules.Callout{Name: "hook", URL: "http://127.0.0.1:9/x", Method: "POST", Format: rules.FormatJSON, PayloadFields: []string{"Status", "Impact"}, EnumFormat: format}
		req, err := Render(cfg, c, ev)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(req.Body); !strings.Contains(got, want) {
			t.Errorf("enum_format %s: %s lacks %s", format, got, want)
		}
	}
}
