package rules

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkWithCallbackFunctions is what every node pays to bring n functions
// created through the API into force after a registry change (each judged and its
// condition compiled), against the same n functions declared in the file and
// loaded by Parse, whose cost includes the YAML.
func BenchmarkWithCallbackFunctions(b *testing.B) {
	base := mustParse(b, callbackFunctionsConfig)
	for _, n := range []int{10, 100} {
		fns := make([]*CallbackFunction, n)
		for i := range fns {
			fns[i] = &CallbackFunction{APIName: fmt.Sprintf("fn_%03d", i), Parameters: map[string]string{"level": "int", "who": "string"},
				CalloutFields: CalloutFields{ID: "level"}, Condition: "'level' >= 2 AND 'who' LIKE \"%ops%\"", Callouts: []string{"RMM"}}
		}
		b.Run(fmt.Sprintf("api/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := base.WithCallbackFunctions(fns); err != nil {
					b.Fatal(err)
				}
			}
		})
		var lines strings.Builder
		for _, f := range fns {
			fmt.Fprintf(&lines, "  - {api_name: %s, parameters: {level: int, who: string}, callout_fields: {id: level}, condition: \"'level' >= 2 AND 'who' LIKE \\\"%%ops%%\\\"\", callouts: [RMM]}\n", f.APIName)
		}
		src := strings.Replace(callbackFunctionsConfig, "rules:\n", lines.String()+"rules:\n", 1)
		if cfg, err := parseTest(b, src); err != nil || len(cfg.Callbacks) != n+2 {
			b.Fatalf("file: %v", err)
		}
		b.Run(fmt.Sprintf("file/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := parseTest(b, src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
