package notify

import (
	"crypto/rand"
	"embed"
	"encoding/hex"
	"fmt"
	htmltemplate "html/template"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/ruleflow/ruleflow/rules"
)

// defaultFS holds the default templates: subject.tmpl, body.txt.tmpl, body.html.tmpl,
// and body.pre.html.tmpl (the HTML part for a custom text body without an HTML file).
//
//go:embed templates/*.tmpl
var defaultFS embed.FS

// DateTimeLayout is how the datetime template function writes a time.
const DateTimeLayout = "2006-01-02 15:04:05 MST (-07:00)"

// datetime formats t with DateTimeLayout, or "never" for the zero time.
func datetime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format(DateTimeLayout)
}

// funcs returns the functions the notification templates may call, beyond the
// text/template builtins: datetime.
func funcs() map[string]any {
	return map[string]any{"datetime": datetime}
}

// Templates are the parsed subject, text and HTML templates and the validated
// recipients of one notify block. A *Templates is immutable and safe for concurrent
// use by several goroutines.
type Templates struct {
	to       []string
	subject  *bounded // text/template
	dflt     *bounded // text/template: the default subject, used when a custom one renders empty
	text     *bounded // text/template
	html     *bounded // html/template
	htmlPre  bool     // html wraps the rendered text in <pre> instead of executing Data
	idDomain string   // right-hand side of generated Message-IDs

	renderTime time.Duration // MaxRenderTime; shorter in tests
}

// NewTemplates validates the recipients of n and parses its templates. Without custom
// templates the defaults are used. notify.subject and notify.body are text/template
// strings; subject_file, body_file (text/template) and html_body_file (html/template)
// name files, relative to baseDir unless absolute. A custom text body without an HTML
// file gets an HTML part holding the same text, escaped. A nil n gives the defaults
// and no recipients.
//
// Every template is also executed once against sample data, so a misspelt field fails
// here rather than when a delivery ends. The error is an ErrorList naming the field
// or file of each problem, with its line and column inside templates.
func NewTemplates(n *rules.Notify, baseDir string) (*Templates, error) {
	if n == nil {
		n = &rules.Notify{}
	}
	var errs ErrorList
	t := &Templates{idDomain: messageIDDomain(), renderTime: MaxRenderTime}
	t.to = parseRecipients(n.To, &errs)

	dfltSubject, err := texttemplate.New("subject.tmpl").Funcs(funcs()).ParseFS(defaultFS, "templates/subject.tmpl")
	if err != nil {
		return nil, err // the embedded templates are known to parse
	}
	t.dflt = boundText(dfltSubject)
	if subject := parseText("notify.subject", n.Subject, "notify.subject_file", n.SubjectFile, baseDir, nil, &errs); subject != nil {
		t.subject = boundText(subject)
	} else {
		t.subject = t.dflt
	}

	dfltText, err := texttemplate.New("body.txt.tmpl").Funcs(funcs()).ParseFS(defaultFS, "templates/body.txt.tmpl")
	if err != nil {
		return nil, err
	}
	t.text = boundText(parseText("notify.body", n.Body, "notify.body_file", n.BodyFile, baseDir, dfltText, &errs))

	switch {
	case n.HTMLBodyFile != "":
		path := resolve(baseDir, n.HTMLBodyFile)
		src, err := os.ReadFile(path)
		if err != nil {
			errs.Add("notify.html_body_file", 0, 0, fileError(err))
			break
		}
		h, err := htmltemplate.New(path).Funcs(funcs()).Parse(string(src))
		if err != nil {
			errs = append(errs, templateError(path, path, err))
			break
		}
		t.html = boundHTML(h)
	case n.Body != "" || n.BodyFile != "":
		t.htmlPre = true
		t.html = boundHTML(htmltemplate.Must(htmltemplate.New("body.pre.html.tmpl").ParseFS(defaultFS, "templates/body.pre.html.tmpl")))
	default:
		t.html = boundHTML(htmltemplate.Must(htmltemplate.New("body.html.tmpl").Funcs(funcs()).ParseFS(defaultFS, "templates/body.html.tmpl")))
	}

	if len(errs) == 0 {
		// Try every template on both kinds of outcome.
		for _, o := range sampleOutcomes() {
			if _, err := t.Render(o, time.UTC); err != nil {
				if ce, ok := err.(*ConfigError); ok {
					errs = append(errs, ce)
				} else {
					errs.Add("notify", 0, 0, err.Error())
				}
				break
			}
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

// Recipients returns the validated recipients, formatted as RFC 5322 addresses.
func (t *Templates) Recipients() []string { return append([]string(nil), t.to...) }

// parseRecipients validates every entry of to (an entry may hold a comma-separated
// list) and returns the addresses without duplicates.
func parseRecipients(to []string, errs *ErrorList) []string {
	var out []string
	seen := map[string]bool{}
	for i, entry := range to {
		source := "notify.to[" + strconv.Itoa(i) + "]"
		if strings.TrimSpace(entry) == "" {
			errs.Add(source, 0, 0, "empty address")
			continue
		}
		list, err := mail.ParseAddressList(entry)
		if err != nil {
			errs.Add(source, 0, 0, "invalid address "+strconv.Quote(entry)+": "+err.Error())
			continue
		}
		for _, a := range list {
			key := strings.ToLower(a.Address)
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, formatAddress(a))
		}
	}
	return out
}

// parseText parses the text/template given inline (field) or in a file (fileField);
// with neither it returns dflt.
func parseText(field, inline, fileField, file, baseDir string, dflt *texttemplate.Template, errs *ErrorList) *texttemplate.Template {
	switch {
	case inline != "" && file != "":
		errs.Add(fileField, 0, 0, "set either "+strings.TrimPrefix(field, "notify.")+" or "+strings.TrimPrefix(fileField, "notify.")+", not both")
		return nil
	case inline != "":
		t, err := texttemplate.New(field).Funcs(funcs()).Parse(inline)
		if err != nil {
			*errs = append(*errs, templateError(field, field, err))
			return nil
		}
		return t
	case file != "":
		path := resolve(baseDir, file)
		src, err := os.ReadFile(path)
		if err != nil {
			errs.Add(fileField, 0, 0, fileError(err))
			return nil
		}
		t, err := texttemplate.New(path).Funcs(funcs()).Parse(string(src))
		if err != nil {
			*errs = append(*errs, templateError(path, path, err))
			return nil
		}
		return t
	}
	return dflt
}

// resolve makes file relative to baseDir unless it is absolute.
func resolve(baseDir, file string) string {
	if filepath.IsAbs(file) || baseDir == "" {
		return filepath.Clean(file)
	}
	return filepath.Join(baseDir, file)
}

// fileError describes a failure to read a template file without Go's "open" prefix.
func fileError(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return "cannot read " + pe.Path + ": " + pe.Err.Error()
	}
	return err.Error()
}

// Render turns o into the e-mail for its delivery, with every time in loc (UTC when
// nil). The Message has the recipients, subject, text and HTML parts and a new
// Message-ID; From is left for the Mailer to fill in. Its Text is also the ticket
// note. A subject that renders empty falls back to the default subject; line breaks
// in a subject become spaces.
func (t *Templates) Render(o Outcome, loc *time.Location) (Message, error) {
	d := newData(o, loc)
	var b limitedBuilder
	budget := newRenderBudget(t.renderTime)

	if err := t.subject.execute(&b, d, budget); err != nil {
		return Message{}, templateError(t.subject.Name(), t.subject.Name(), err)
	}
	subject := strings.Join(strings.Fields(b.String()), " ")
	if subject == "" {
		b.Reset()
		if err := t.dflt.execute(&b, d, budget); err != nil {
			return Message{}, templateError(t.dflt.Name(), t.dflt.Name(), err)
		}
		subject = strings.Join(strings.Fields(b.String()), " ")
	}

	b.Reset()
	if err := t.text.execute(&b, d, budget); err != nil {
		return Message{}, templateError(t.text.Name(), t.text.Name(), err)
	}
	text := b.String()
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}

	b.Reset()
	var err error
	if t.htmlPre {
		err = t.html.execute(&b, text, budget)
	} else {
		err = t.html.execute(&b, d, budget)
	}
	if err != nil {
		return Message{}, templateError(t.html.Name(), t.html.Name(), err)
	}

	return Message{
		To:        append([]string(nil), t.to...),
		Subject:   subject,
		Text:      text,
		HTML:      b.String(),
		MessageID: newMessageID(o.DeliveryID, t.idDomain),
	}, nil
}

// MaxRenderedBytes bounds each rendered part (subject, text, HTML) of a notification.
const MaxRenderedBytes = 1 << 20

// limitedBuilder is a strings.Builder that refuses to grow past MaxRenderedBytes, so
// a runaway template fails instead of exhausting memory.
type limitedBuilder struct{ strings.Builder }

// Write implements io.Writer, failing once the output would pass MaxRenderedBytes.
func (b *limitedBuilder) Write(p []byte) (int, error) {
	if b.Len()+len(p) > MaxRenderedBytes {
		return 0, fmt.Errorf("output longer than %d bytes", MaxRenderedBytes)
	}
	return b.Builder.Write(p)
}

// WriteString implements io.StringWriter with the same limit.
func (b *limitedBuilder) WriteString(s string) (int, error) {
	if b.Len()+len(s) > MaxRenderedBytes {
		return 0, fmt.Errorf("output longer than %d bytes", MaxRenderedBytes)
	}
	return b.Builder.WriteString(s)
}

// sampleOutcomes are the outcomes NewTemplates tries the templates on.
func sampleOutcomes() [2]Outcome {
	first := time.Date(2022, 3, 25, 15, 23, 58, 0, time.UTC)
	return [2]Outcome{
		{
			Callout: "VSA close alert", Rule: "Close RMM alert on completion", Form: "Ticket",
			EntryID: "8176", TicketNumber: "T20211120.0001", Delivered: true, Attempts: 1,
			LastStatusCode: 200, FirstAttempt: first, LastAttempt: first,
			URL: "https://rmm.example.com/ws/TicketService.asmx", DeliveryID: "sample",
		},
		{
			Callout: "VSA close alert", Rule: "Close RMM alert on completion", Form: "Ticket",
			EntryID: "8176", Attempts: 11, LastError: "connection refused",
			FirstAttempt: first, LastAttempt: first.Add(10 * time.Minute),
			URL: "https://rmm.example.com/ws/TicketService.asmx", DeliveryID: "sample",
		},
	}
}

// messageIDDomain returns the host name for the right-hand side of Message-IDs,
// reduced to the characters a dot-atom allows.
func messageIDDomain() string {
	h, _ := os.Hostname()
	h = strings.Trim(keepAtom(h, false), ".")
	if h == "" {
		return "ruleflow.localhost"
	}
	return h
}

// newMessageID returns "<random.delivery@domain>" (RFC 5322 msg-id). It is made at
// Render time so that every retry of one e-mail carries the same Message-ID.
func newMessageID(deliveryID, domain string) string {
	var r [12]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never fails
	left := hex.EncodeToString(r[:])
	if d := keepAtom(deliveryID, true); d != "" {
		left += "." + d
	}
	return "<" + left + "@" + domain + ">"
}

// keepAtom keeps the letters, digits, '-' and '.' of s (and '_' when underscore),
// collapsing runs of dots so the result stays a valid dot-atom once trimmed.
func keepAtom(s string, underscore bool) string {
	var b strings.Builder
	prevDot := true
	for i := 0; i < len(s) && b.Len() < 64; i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', underscore && c == '_':
			b.WriteByte(c)
			prevDot = false
		case c == '.' && !prevDot:
			b.WriteByte(c)
			prevDot = true
		}
	}
	return strings.TrimRight(b.String(), ".")
}
