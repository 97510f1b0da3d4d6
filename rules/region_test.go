package rules

import (
	"strings"
	"testing"
)

// TestTargetRegion: a target URL's region is one of Freshworks' data centres; any
// other value is a positioned error.
func TestTargetRegion(t *testing.T) {
	const head = "version: 1\ntarget_urls:\n"
	tests := []struct{ src, wantErr string }{
		{"  - {name: jira, region: US}\n", ""},
		{"  - {name: jira, region: EUC}\n", ""},
		{"  - {name: jira}\n", ""},
		{"  - {name: jira, region: us}\n", `test.yaml:3:26: target URL "jira": region "us" is not one of US, EU, EUC, AUS, IND`},
		{"  - {name: jira, region: Mars}\n", `test.yaml:3:26: target URL "jira": region "Mars" is not one of US, EU, EUC, AUS, IND`},
	}
	for _, tt := range tests {
		_, err := Parse("test.yaml", []byte(head+tt.src))
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%q: %v", tt.src, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%q accepted, want %s", tt.src, tt.wantErr)
			continue
		}
		if first, _, _ := strings.Cut(err.Error(), "\n"); first != tt.wantErr {
			t.Errorf("error:\n got %s\nwant %s", first, tt.wantErr)
		}
	}
}
