package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ruleflow/ruleflow/callouts"
	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/notify"
	"github.com/ruleflow/ruleflow/rules"
)

// mailMaxAttempts is how many attempts a notification e-mail or note gets.
const mailMaxAttempts = 50

// mailRetry is the retry schedule of notification e-mails and notes: exponential
// from 10 s, capped at 30 min, with equal jitter, for mailMaxAttempts attempts
// (about a day).
var mailRetry = callouts.Policy{Interval: 10 * time.Second, Max: mailMaxAttempts - 1, Exponential: true, MaxInterval: 30 * time.Minute}

// attempt makes one attempt of a claimed job under state, taking at most limit
// (see attemptLimit), and returns its outcome. ctx ends at the lease's deadline or
// at shutdown. p is a callout's payload as rendered (the fast path), or nil: then
// the stored one is decoded.
func (e *Engine) attempt(ctx context.Context, state *configState, sender *callouts.Sender, job store.Job, p *DeliveryPayload, limit time.Duration) store.Outcome {
	switch job.Kind {
	case store.KindCallout:
		if store.IsTargetCall(job) {
			return e.attemptTargetCall(ctx, state, sender, job)
		}
		return e.attemptCallout(ctx, state, sender, job, p)
	case store.KindEmail:
		ctx, cancel := context.WithTimeout(ctx, limit)
		defer cancel()
		return e.attemptEmail(ctx, state, job)
	case store.KindNote:
		ctx, cancel := context.WithTimeout(ctx, limit)
		defer cancel()
		return e.attemptNote(ctx, state, job)
	}
	return e.permanentFailure(job, fmt.Sprintf("unknown job kind %q", job.Kind))
}

func (e *Engine) permanentFailure(job store.Job, reason string) store.Outcome {
	return store.Outcome{ID: job.ID, Status: store.StatusFailed, Attempt: store.Attempt{StartedAt: e.now(), Error: reason}}
}

func (e *Engine) attemptCallout(ctx context.Context, state *configState, sender *callouts.Sender, job store.Job, p *DeliveryPayload) (out store.Outcome) {
	if p == nil {
		var err error
		if p, err = DecodeDeliveryPayload(job.Payload); err != nil || p.Request == nil && p.RenderError == "" {
			return e.permanentFailure(job, fmt.Sprintf("unreadable delivery payload: %v", err))
		}
	}
	ctx, span := e.startAttempt(ctx, "ruleflow.deliver", p.TraceParent, job) // telemetry.go; nil when off
	defer func() { endAttempt(span, out) }()
	c := state.callout(job.Callout)
	form := state.cfg.CurrentFormName(job.Form) // a form renamed since: its new name (renamed_from)
	start := e.now()
	var res callouts.Result
	var sendErr error
	switch {
	case p.RenderError != "":
		sendErr = errors.New("not rendered: " + p.RenderError) // never sent; fails on this first attempt
	case c == nil:
		sendErr = fmt.Errorf("callout %q is no longer configured", job.Callout)
	default:
		if cred, err := callouts.CredentialsFor(c, e.key); err != nil {
			sendErr = err
		} else {
			req, _ := callouts.RenamedForm(p.Request, job.Form, form)
			res, sendErr = sender.Send(withEgressOrigin(ctx, state, c, p), req, job.ID, timeoutOf(c), cred)
		}
	}
	delivered, reason := sendErr == nil, ""
	if sendErr != nil {
		reason = sendErr.Error()
	}
	if gone(res) {
		reason += goneReason
	}
	e.metrics.attempted(job.Callout, res, delivered)
	a := store.Attempt{StartedAt: start, Duration: res.Duration, StatusCode: res.StatusCode, Error: reason, Response: res.Response}
	attempts := job.Attempts + 1
	out = store.Outcome{ID: job.ID, Attempt: a, Breaker: e.breakerReport(ctx, state, c, p, job, res, sendErr)}
	switch {
	case delivered:
		out.Status = store.StatusDelivered
	case c == nil || p.RenderError != "" || attempts >= job.MaxAttempts || gone(res):
		out.Status = store.StatusFailed
	default:
		n := min(attempts, p.Policy.Attempts()-1)
		next, ok := p.Policy.Next(n, e.now(), res, rand.Float64)
		if !ok {
			next = e.now().Add(p.Policy.Interval)
		}
		out.Status, out.NextAt = store.StatusPending, next
	}
	if out.Status != store.StatusPending {
		first := job.FirstAttemptAt
		if first.IsZero() {
			first = start
		}
		o := notify.Outcome{
			Callout: job.Callout, Rule: job.Rule, Form: form, EntryID: job.EntryID, TicketNumber: p.TicketNumber,
			Delivered: delivered, Attempts: attempts, LastStatusCode: res.StatusCode, LastError: reason,
			FirstAttempt: first, LastAttempt: start, DeliveryID: job.ID,
		}
		if p.Request != nil {
			o.URL = p.Request.URL
		} else if c != nil {
			o.URL = c.URL // not rendered: the callout's URL as configured
		}
		if c != nil {
			o.Callout = c.Name
			out.Follow = e.notification(state, c, p.Recipients, job, o)
		} else {
			out.Follow = e.removedNotification(state, p.Notify, p.Recipients, job, o)
		}
		if span != nil {
			stampTraceParent(out.Follow, nil, e.tr.traceParent(ctx))
		}
	}
	return out
}

// emailPayload is what the outbox holds for a notification e-mail: the message and
// the ticket note to add once it is sent.
type emailPayload struct {
	Message Message `json:"message"`
	Form    string  `json:"form"`
	EntryID string  `json:"entry_id"`
	NoNote  bool    `json:"no_note,omitempty"` // not about a ticket: a circuit breaker's e-mail
	// TraceParent is the span (the event's, or the delivery attempt's) the e-mail's
	// span is a child of, when tracing is on.
	TraceParent string `json:"traceparent,omitempty"`
}

// notePayload is what the outbox holds for a ticket note.
type notePayload struct {
	Form    string `json:"form"`
	EntryID string `json:"entry_id"`
	Text    string `json:"text"`
}

// notification returns the e-mail job reporting on a delivery that reached its final
// state, or nothing when the callout's notify policy says no e-mail.
func (e *Engine) notification(state *configState, c *rules.Callout, to []string, job store.Job, o notify.Outcome) []store.Job {
	return e.notifyJob(state, c.Name, withRecipients(state.cfg, c.Notify, to), state.templates[c.Name], job, o)
}

// removedNotification is notification for a delivery whose callout is no longer
// configured (removed without renamed_from): the policy stored with the delivery
// when it was enqueued decides, with templates parsed from it now.
func (e *Engine) removedNotification(state *configState, stored *rules.Notify, to []string, job store.Job, o notify.Outcome) []store.Job {
	if stored == nil {
		// Deliveries enqueued before policies were stored with them.
		e.log.Warn("engine: delivery of a removed callout ended; it stored no notification policy, so none is sent", "callout", job.Callout, "job", job.ID)
		return nil
	}
	stored = withRecipients(state.cfg, stored, to)
	t, err := notify.NewTemplates(stored, configDir(state))
	if err != nil {
		e.log.Error("engine: notification template of a removed callout; using the defaults", "callout", job.Callout, "error", err)
		t = nil
	}
	return e.notifyJob(state, job.Callout, stored, t, job, o)
}

// notifyJob returns the e-mail job for policy n with templates t (nil: the defaults).
// n.To holds the resolved addresses (withRecipients); the e-mail goes to them.
func (e *Engine) notifyJob(state *configState, callout string, n *rules.Notify, t *notify.Templates, job store.Job, o notify.Outcome) []store.Job {
	if !notify.ShouldNotify(n, o.Delivered) {
		return nil
	}
	loc := state.cfg.Location
	if loc == nil {
		loc = time.UTC
	}
	var msg Message
	err := errors.New("no templates")
	if t != nil {
		msg, err = t.Render(o, loc)
	}
	if err != nil {
		// A custom template failed on this data: fall back to the defaults rather
		// than lose the notification.
		if t != nil {
			e.log.Error("engine: notification template", "callout", callout, "error", err)
		}
		dflt, derr := notify.NewTemplates(&rules.Notify{To: n.To}, "")
		if derr == nil {
			msg, err = dflt.Render(o, loc)
		}
		if err != nil {
			e.log.Error("engine: notification cannot be rendered; none sent", "callout", callout, "error", err)
			return nil
		}
	}
	msg.To = append([]string(nil), n.To...) // resolved for this delivery, not the templates' static list
	payload, err := json.Marshal(emailPayload{Message: msg, Form: o.Form, EntryID: job.EntryID})
	if err != nil {
		e.log.Error("engine: encode notification", "callout", callout, "error", err)
		return nil
	}
	return []store.Job{{
		Kind: store.KindEmail, Callout: callout, Rule: job.Rule, Form: o.Form, EntryID: job.EntryID,
		EventKind: job.EventKind, ParentID: job.ID, Payload: payload, MaxAttempts: mailMaxAttempts,
	}}
}

func (e *Engine) attemptEmail(ctx context.Context, state *configState, job store.Job) (out store.Outcome) {
	var p emailPayload
	if err := json.Unmarshal(job.Payload, &p); err != nil {
		return e.permanentFailure(job, fmt.Sprintf("unreadable e-mail payload: %v", err))
	}
	ctx, span := e.startAttempt(ctx, "ruleflow.email", p.TraceParent, job) // telemetry.go; nil when off
	defer func() { endAttempt(span, out) }()
	start := e.now()
	var err error
	if state.mailer == nil {
		err = &notify.Error{Op: "config", Err: fmt.Errorf("no smtp block in the configuration")}
	} else {
		err = state.mailer.Send(ctx, p.Message)
	}
	a := store.Attempt{StartedAt: start, Duration: e.clockSince(start)}
	out = store.Outcome{ID: job.ID, Attempt: a}
	if err == nil {
		e.metrics.email(true)
		out.Status = store.StatusDelivered
		if e.notesEnabled() && !p.NoNote {
			form := state.cfg.CurrentFormName(p.Form)
			payload, _ := json.Marshal(notePayload{Form: form, EntryID: p.EntryID, Text: p.Message.Text})
			out.Follow = []store.Job{{
				Kind: store.KindNote, Callout: job.Callout, Rule: job.Rule, Form: form, EntryID: p.EntryID,
				EventKind: job.EventKind, ParentID: job.ID, Payload: payload, MaxAttempts: mailMaxAttempts,
			}}
		}
		return out
	}
	out.Attempt.Error = err.Error()
	if ne, ok := err.(*notify.Error); ok {
		out.Attempt.StatusCode = ne.Code
	}
	return e.retryOrFail(out, job, notify.IsPermanent(err), func() { e.metrics.email(false) })
}

func (e *Engine) attemptNote(ctx context.Context, state *configState, job store.Job) store.Outcome {
	var p notePayload
	if err := json.Unmarshal(job.Payload, &p); err != nil {
		return e.permanentFailure(job, fmt.Sprintf("unreadable note payload: %v", err))
	}
	start := e.now()
	out := store.Outcome{ID: job.ID, Attempt: store.Attempt{StartedAt: start}}
	if e.opts.Notes == nil {
		out.Attempt.Error = "no note handler: the host does not add notes"
		return e.retryOrFail(out, job, true, nil)
	}
	err := e.opts.Notes.AddNote(ctx, state.cfg.CurrentFormName(p.Form), p.EntryID, p.Text)
	out.Attempt.Duration = e.clockSince(start)
	if err == nil {
		out.Status = store.StatusDelivered
		return out
	}
	out.Attempt.Error = err.Error()
	return e.retryOrFail(out, job, false, nil)
}

// notesEnabled reports whether a sent e-mail is to be followed by a ticket note.
func (e *Engine) notesEnabled() bool {
	if e.opts.Notes == nil {
		return false
	}
	if ne, ok := e.opts.Notes.(NotesEnabler); ok {
		return ne.NotesEnabled()
	}
	return true
}

// retryOrFail completes out for a failed attempt: failed when permanent or out of
// attempts (calling onFinal), else rescheduled by mailRetry.
func (e *Engine) retryOrFail(out store.Outcome, job store.Job, permanent bool, onFinal func()) store.Outcome {
	attempts := job.Attempts + 1
	if permanent || attempts >= job.MaxAttempts {
		out.Status = store.StatusFailed
		if onFinal != nil {
			onFinal()
		}
		return out
	}
	// A job re-driven by hand may have more attempts than the schedule: it keeps
	// the schedule's last delay.
	next, _ := mailRetry.Next(min(attempts, mailRetry.Attempts()-1), e.now(), callouts.Result{}, rand.Float64)
	out.Status, out.NextAt = store.StatusPending, next
	return out
}
