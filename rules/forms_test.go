package rules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ruleflow/ruleflow/qualification"
)

func TestLoadForms(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Everything but forms: is ignored, even when it would not load.
	p := write("partial.yaml", "rules: [{name: unfinished}]\nforms:\n  Ticket:\n    fields:\n      Status: {id: 7, type: selection, options: [New, Done]}\n      Title: {type: character}\n")
	forms, err := LoadForms(p)
	if err != nil {
		t.Fatalf("LoadForms: %v", err)
	}
	want := []qualification.Field{{Name: "Status", ID: 7, Type: qualification.Selection, Options: []string{"New", "Done"}}, {Name: "Title", Type: qualification.Character}}
	if diff := cmp.Diff(want, forms["Ticket"].Fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	bad := write("bad.yaml", "forms:\n  Ticket:\n    fields:\n      Status: {type: selection}\n")
	_, err = LoadForms(bad)
	wantErr := bad + ":4:22: selection field \"Status\" needs options\n 4 |       Status: {type: selection}\n   |                      ^"
	if err == nil || err.Error() != wantErr {
		t.Errorf("LoadForms(bad) error:\n%v\nwant:\n%s", err, wantErr)
	}
	if _, err := LoadForms(filepath.Join(dir, "none.yaml")); !os.IsNotExist(err) {
		t.Errorf("LoadForms(missing) = %v", err)
	}
	all, err := LoadForms(demoConfig)
	if err != nil || len(all) != 2 || all["HPD:Help Desk"] == nil {
		t.Errorf("LoadForms(demo) = %d forms, %v", len(all), err)
	}
}
