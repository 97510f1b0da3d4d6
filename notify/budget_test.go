package notify

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/rules"
)

// TestRangeBudgetInvisible checks that bounding range loops changes no output: the
// budget call prints nothing in text templates, nor in any html/template context.
func TestRangeBudgetInvisible(t *testing.T) {
	dir := t.TempDir()
	html := `<p>{{range 3}}<b>{{.}}</b>{{end}}</p><a title="{{range 2}}{{.}}{{end}}">x</a>` +
		`<script>var a = [{{range 2}}{{.}},{{end}}];</script>`
	if err := os.WriteFile(filepath.Join(dir, "body.html"), []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	tmpl, err := NewTemplates(&rules.Notify{
		To:           []string{"ops@example.com"},
		Subject:      "{{range $i := 3}}{{if lt $i 2}}{{with $.Callout}}{{.}}{{end}}{{end}}{{end}}",
		Body:         "{{range 3}}x{{else}}none{{end}}{{range 0}}y{{else}}-{{end}}",
		HTMLBodyFile: "body.html",
	}, dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ { // html/template escapes a fresh copy every time
		msg, err := tmpl.Render(failedOutcome(), time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.Repeat(failedOutcome().Callout, 2); msg.Subject != want {
			t.Errorf("Subject = %q, want %q", msg.Subject, want)
		}
		if msg.Text != "xxx-\n" {
			t.Errorf("Text = %q, want %q", msg.Text, "xxx-\n")
		}
		want := `<p><b>0</b><b>1</b><b>2</b></p><a title="01">x</a><script>var a = [ 0 , 1 ,];</script>`
		if msg.HTML != want {
			t.Errorf("HTML = %q\n want %q", msg.HTML, want)
		}
	}
}

// TestRangeBudgetLimit checks the limit exactly: MaxTemplateSteps iterations
// render, one more fails, in the text and the HTML part alike.
func TestRangeBudgetLimit(t *testing.T) {
	dir := t.TempDir()
	n := strconv.Itoa(MaxTemplateSteps)
	over := strconv.Itoa(MaxTemplateSteps + 1)
	if err := os.WriteFile(filepath.Join(dir, "ok.html"), []byte("{{range "+n+"}}{{end}}ok"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "over.html"), []byte("{{range "+over+"}}{{end}}"), 0o644); err != nil {
		t.Fatal(err)
	}
	to := []string{"ops@example.com"}
	if _, err := NewTemplates(&rules.Notify{To: to, Body: "{{range " + n + "}}{{end}}ok"}, dir); err != nil {
		t.Errorf("%d iterations in the body: %v", MaxTemplateSteps, err)
	}
	if _, err := NewTemplates(&rules.Notify{To: to, HTMLBodyFile: "ok.html"}, dir); err != nil {
		t.Errorf("%d iterations in the HTML body: %v", MaxTemplateSteps, err)
	}
	_, err := NewTemplates(&rules.Notify{To: to, HTMLBodyFile: "over.html"}, dir)
	want := filepath.Join(dir, "over.html") + `:1:8: executing "` + filepath.Join(dir, "over.html") + `" at <range>: more than 100000 steps (range iterations and template calls)`
	if err == nil || err.Error() != want {
		t.Errorf("HTML body over the limit: error = %v\n want %s", err, want)
	}
	// The budget covers the whole message: half in the subject, half in the body, plus one.
	half := strconv.Itoa(MaxTemplateSteps / 2)
	_, err = NewTemplates(&rules.Notify{To: to, Subject: "s{{range " + half + "}}{{end}}", Body: "{{range " + half + "}}{{end}}{{range 1}}{{end}}"}, dir)
	if err == nil || !strings.Contains(err.Error(), "more than 100000 steps (range iterations and template calls)") {
		t.Errorf("subject and body together over the limit: error = %v", err)
	}
}

// TestRangeBudgetPerRender checks that concurrent renders of one Templates keep
// separate budgets: each may use most of the limit.
func TestRangeBudgetPerRender(t *testing.T) {
	body := "{{range " + strconv.Itoa(MaxTemplateSteps*3/4) + "}}{{end}}done"
	tmpl, err := NewTemplates(&rules.Notify{To: []string{"ops@example.com"}, Body: body}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := tmpl.Render(failedOutcome(), time.UTC)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// TestRenderTimeLimit checks the wall-clock cap: each step of this loop is cheap
// enough to pass the step limit but allocates a megabyte, so only the clock stops it.
func TestRenderTimeLimit(t *testing.T) {
	slow, err := NewTemplates(&rules.Notify{To: []string{"ops@example.com"}, Body: `{{if eq .Callout "slow"}}{{range 99999}}{{$x := printf "%0999999d" 1}}{{end}}{{end}}`}, t.TempDir())
	if err != nil {
		t.Fatal(err) // the samples name another callout, so it is accepted
	}
	slow.renderTime = 50 * time.Millisecond
	o := failedOutcome()
	o.Callout = "slow"
	start := time.Now()
	_, err = slow.Render(o, time.UTC)
	want := `notify.body:1:33: executing "notify.body" at <range>: rendering took longer than 50ms`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\n want %s", err, want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Render took %v, want it stopped soon after 50ms", d)
	}
}
