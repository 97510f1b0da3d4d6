package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ruleflow/ruleflow/callouts"
	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/qualification"
	"github.com/ruleflow/ruleflow/rules"
)

// CalloutTest is what TestCallout rendered and, when asked to, what the receiver
// answered.
type CalloutTest struct {
	// Request is the rendered request as the outbox would hold it (not masked:
	// show it through Request.Masked). Authorization and signature headers are
	// added when sending; Authorized and Signed say whether they would be.
	Request    *callouts.Request
	Authorized bool
	Signed     bool
	// DeliveryID is the Idempotency-Key of the test send ("test_…"), empty on a
	// dry run.
	DeliveryID string
	// Response is the receiver's answer; nil on a dry run.
	Response *TestResponse
}

// TestResponse is the answer to a test send.
type TestResponse struct {
	Status   int // 0 when no response arrived
	Header   http.Header
	Body     []byte // the start of the body, at most callouts.ResponseLimit bytes
	Error    string // why the send counts as failed (as an attempt would record it); "" if delivered
	Duration time.Duration
}

// TestCallout renders the callout name for ev as a rule firing it would, whether
// the callout is active or not. With send set it sends the request once, outside
// the outbox (no delivery is stored, retried or notified), through the engine's
// egress-guarded client with the callout's credentials and timeout, and returns
// the answer. A nil ev means SampleEvent(name).
func (e *Engine) TestCallout(ctx context.Context, name string, ev *rules.Event, send bool) (*CalloutTest, error) {
	state := e.cfg.Load()
	c := state.callouts[name]
	if c == nil || c.WebhookID != "" {
		return nil, fmt.Errorf("callout %q: %w", name, ErrUnknownName)
	}
	if ev == nil {
		var err error
		if ev, err = e.SampleEvent(name); err != nil {
			return nil, err
		}
	}
	render := state.encoders.ForEvent(ev)
	req, err := render.Render(c)
	if err != nil {
		return nil, &InvalidError{Msg: fmt.Sprintf("callout %q: %v", name, err)}
	}
	t := &CalloutTest{Request: req, Authorized: c.Username != "", Signed: c.SigningSecret != ""}
	if !send {
		return t, nil
	}
	cred, err := callouts.CredentialsFor(c, e.key)
	if err != nil {
		return nil, fmt.Errorf("callout %q: %w", name, err)
	}
	t.DeliveryID = store.NewID("test_", e.now())
	sender := &callouts.Sender{Client: e.client, UserAgent: "ruleflow/" + Version(), Now: e.now}
	res, sendErr := sender.Send(withEgressOrigin(ctx, state, c, &DeliveryPayload{}), req, t.DeliveryID, timeoutOf(c), cred)
	t.Response = &TestResponse{Status: res.StatusCode, Header: res.Header, Body: res.Response, Duration: res.Duration}
	if sendErr != nil {
		t.Response.Error = sendErr.Error()
	}
	e.log.Info("engine: callout test sent", "callout", name, "delivery_id", t.DeliveryID, "status", res.StatusCode, "delivered", sendErr == nil)
	return t, nil
}

// SampleEvent builds an event to test the callout name with: a create (or the
// first event kind of the first rule that fires the callout) on that rule's form
// (or the configuration's first form), entry SAMPLE-1, whose fields hold a
// made-up value of their type: "Sample <field>" for text, 1 for numbers, the
// first option of a selection, now for dates.
func (e *Engine) SampleEvent(name string) (*rules.Event, error) {
	cfg := e.cfg.Load().base
	form, kind := "", rules.KindCreate
	for _, r := range cfg.Rules {
		if r.Webhook != nil || !ruleFires(r, name) {
			continue
		}
		form = r.Form
		for _, k := range r.Events {
			if k == rules.KindCreate || k == rules.KindUpdate || k == rules.KindDelete {
				kind = k
				break
			}
		}
		break
	}
	if form == "" && len(cfg.Forms) > 0 {
		form = cfg.Forms[0].Name
	}
	f, ok := cfg.Form(form)
	if !ok || f.Schema == nil {
		return nil, &InvalidError{Msg: fmt.Sprintf("callout %q: no form to build a sample event from; pass an event", name)}
	}
	now := e.now().UTC()
	rec := map[string]any{}
	for _, fd := range f.Schema.Fields {
		if v, ok := sampleValue(fd, now); ok {
			rec[fd.Name] = v
		}
	}
	doc := map[string]any{"event": kind, "form": form, "entry_id": "SAMPLE-1", "time": now.Format(time.RFC3339Nano)}
	if kind == rules.KindDelete {
		doc["before"] = rec
	} else {
		doc["after"] = rec
	}
	if kind == rules.KindUpdate {
		doc["before"] = map[string]any{}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	ev, err := cfg.DecodeEvent(b, e.now)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("callout %q: sample event", name), err)
	}
	return ev, nil
}

func ruleFires(r *rules.Rule, callout string) bool {
	for _, t := range r.Targets {
		if t.Name == callout {
			return true
		}
	}
	return false
}

// sampleValue is a made-up value of field fd's type, as event JSON writes it.
func sampleValue(fd qualification.Field, now time.Time) (any, bool) {
	switch fd.Type {
	case qualification.Character, qualification.Diary:
		return "Sample " + fd.Name, true
	case qualification.Integer:
		return 1, true
	case qualification.Real, qualification.Decimal:
		return 1.5, true
	case qualification.DateTime:
		return now.Truncate(time.Second).Format(time.RFC3339), true
	case qualification.Date:
		return now.Format(time.DateOnly), true
	case qualification.Time:
		return "09:30:00", true
	case qualification.Selection:
		if len(fd.Options) > 0 {
			return fd.Options[0], true
		}
	case qualification.Boolean:
		return true, true
	}
	return nil, false
}
