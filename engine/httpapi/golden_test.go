package httpapi

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ruleflow/ruleflow/qualification/goldentest"
)

// checkGolden compares got with the golden file, or rewrites it under -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	goldentest.Check(t, path, got)
}

// TestXMLToJSONGolden converts the XML documents under testdata/xml and compares
// the JSON trees, and the event record an external event would make of them, with
// their golden files.
func TestXMLToJSONGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "xml", "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no XML documents: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			tree, err := XMLToJSON(in)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			enc := json.NewEncoder(&out)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(map[string]any{"tree": tree, "record": FlattenPayload(map[string]any{"data": tree})}); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, strings.TrimSuffix(f, ".xml")+".json.golden", out.Bytes())
		})
	}
}
