package callouts

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ruleflow/ruleflow/rules"
)

// TestRenderDemoConfig loads the demo configuration with the real YAML loader, runs
// every demo event through the rules, and renders every fired callout: each body
// must parse with the independent decoder of its format.
func TestRenderDemoConfig(t *testing.T) {
	t.Setenv("RULEFLOW_DEMO_VSA_PASSWORD", "demo")
	dir := filepath.Join("..", "testdata", "demo")
	cfg, err := rules.Load(filepath.Join(dir, "ruleflow.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	formats := map[rules.Format]int{}
	err = cfg.ReadEvents(f, "events.jsonl", func(line int, ev *rules.Event, err error) error {
		if err != nil {
			t.Errorf("events.jsonl:%d: %v", line, err)
			return nil
		}
		matches, err := cfg.Match(ev)
		if err != nil {
			t.Errorf("events.jsonl:%d: match: %v", line, err)
		}
		for _, m := range matches {
			for _, c := range m.Fire {
				req, err := Render(cfg, c, ev)
				if err != nil {
					t.Errorf("events.jsonl:%d: %v", line, err)
					continue
				}
				formats[c.Format]++
				if err := parses(c, req); err != nil {
					t.Errorf("events.jsonl:%d: callout %q: %v\n%s", line, c.Name, err, dump(req))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(formats) == 0 {
		t.Fatal("no demo event fired a callout")
	}
	t.Logf("rendered per format: %v", formats)
}

// parses checks a rendered body with the independent decoder of its format.
func parses(c *rules.Callout, req *Request) error {
	var err error
	switch c.Format {
	case rules.FormatNameValue:
		if req.Method == "POST" {
			_, err = decodeNameValue(string(req.Body))
		}
	case rules.FormatSOAP:
		_, _, err = decodeSOAP(req.Body)
	case rules.FormatXMLRPC:
		_, _, err = decodeXMLRPC(req.Body)
	case rules.FormatJSON:
		if ct := req.Header["Content-Type"]; ct == "application/json" {
			_, _, err = jsonObjectKeys(req.Body, "entry_details")
		} else {
			_, err = decodeMultipart(ct, req.Body)
		}
	}
	return err
}
