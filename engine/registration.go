package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/ruleflow/ruleflow/callouts"
	"github.com/ruleflow/ruleflow/callouts/egress"
	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// This file holds the register and deregister calls of external-event targets
// (rules.TargetCall): the installation and the register job are written in one
// transaction, the revocation and the deregister job in another, and each call is a
// callout job (EventKind register or deregister) attempted by the dispatcher, retried
// by the call's retry policy and sent through the egress guard. The call is rendered
// when it is attempted, from the configuration in force: its data (the
// installation's URL, ID and iparams, the registration ID) never change, and the
// installation's URL, which holds its token, is kept only sealed with the engine's
// key in the registration row, never in a job.

// DeregisterHold is how long a deregister call waits for the register call of its
// installation when the installation is revoked before its registration ended. The
// register call's outcome ends the wait at once (in the transaction that settles
// it), so the hold only bounds a wait whose end was somehow missed.
const DeregisterHold = 30 * 24 * time.Hour

// targetCallPayload is what the outbox holds for a register or deregister call.
type targetCallPayload struct {
	Target string          `json:"target"` // the target URL's name
	Policy callouts.Policy `json:"policy"` // the call's retry policy when it was enqueued
}

// targetCallName is the Callout of a target call's job: "target:<name>", apart
// from every callout name.
func targetCallName(target string) string { return "target:" + target }

// targetCallJob is the job of call c of target t, or nil when c is nil.
func targetCallJob(t *rules.TargetURL, c *rules.TargetCall) *store.Job {
	if c == nil {
		return nil
	}
	policy := callouts.PolicyFor(c.Retry)
	payload, _ := json.Marshal(targetCallPayload{Target: t.Name, Policy: policy}) // cannot fail
	return &store.Job{Callout: targetCallName(t.Name), Form: t.Name, Payload: payload, MaxAttempts: policy.Attempts()}
}

// registerData is what target t's templates see for installation tg at targetURL.
func registerData(t *rules.TargetURL, tg store.Target, targetURL string) rules.RegisterData {
	iparams := map[string]any{}
	maps.Copy(iparams, t.Iparams)
	if len(tg.IParams) > 0 {
		var stored map[string]any
		if json.Unmarshal(tg.IParams, &stored) == nil {
			maps.Copy(iparams, stored)
		}
	}
	return rules.RegisterData{TargetURL: targetURL, InstallationID: tg.ID, Target: t.Name, Iparams: iparams}
}

// CreateTarget stores a new installation of the configuration's target URL
// tg.Name, reachable at targetURL (absolute, with its token). When the target
// declares register or deregister calls, the installation's registration — and
// the register call's job — are stored in the same transaction, so a register call
// accepted here is made even if the process dies right after. The register call is
// first rendered for this installation: if its templates fail on the installation's
// iparams, nothing is stored and the error is an *InvalidError.
func (e *Engine) CreateTarget(ctx context.Context, tg store.Target, targetURL string) (store.Target, error) {
	if e.store == nil {
		return store.Target{}, errors.New("engine: targets need a store")
	}
	t, ok := e.Config().Target(tg.Name)
	if !ok || t.Register == nil && t.Deregister == nil {
		return e.store.CreateTarget(ctx, tg, e.now())
	}
	if tg.ID == "" {
		tg.ID = store.NewID(store.TargetIDPrefix, e.now())
	}
	if t.Register != nil {
		if _, err := t.Register.Render(registerData(t, tg, targetURL)); err != nil {
			return store.Target{}, &InvalidError{Msg: fmt.Sprintf("target %q: register %v", t.Name, err)}
		}
	}
	sealed, err := e.key.Encrypt(targetURL)
	if err != nil {
		return store.Target{}, fmt.Errorf("engine: seal the target URL: %w", err)
	}
	created, reg, err := e.store.CreateRegisteredTarget(ctx, tg, store.Registration{TargetURL: []byte(sealed)}, targetCallJob(t, t.Register), e.now())
	if err != nil {
		return store.Target{}, err
	}
	if reg.RegisterJob != "" {
		e.log.Info("engine: target installation created; register call queued", "target", created.Name, "installation", created.ID, "job", reg.RegisterJob)
		e.Wake()
	}
	return created, nil
}

// RevokeTarget revokes installation id: its URL stops working at once. When the
// installation was registered through its target's calls and the target declares a
// deregister call, the call's job is stored in the same transaction: due now when
// the registration succeeded (or there was no register call), waiting for the
// register call when that has not ended yet; when the registration failed there is
// nothing to deregister, and the call is skipped with a logged reason.
// store.ErrNotFound if there is no such active installation.
func (e *Engine) RevokeTarget(ctx context.Context, id string) error {
	if e.store == nil {
		return errors.New("engine: targets need a store")
	}
	tg, err := e.store.GetTarget(ctx, id)
	if err != nil {
		return err
	}
	var job *store.Job
	if t, ok := e.Config().Target(tg.Name); ok {
		job = targetCallJob(t, t.Deregister)
	}
	reg, found, err := e.store.RevokeRegisteredTarget(ctx, id, job, DeregisterHold, e.now())
	if err != nil {
		return err
	}
	switch {
	case !found || job == nil:
	case reg.DeregisterStatus == store.DeregistrationSkipped:
		e.log.Info("engine: deregister call skipped", "target", tg.Name, "installation", id, "reason", reg.DeregisterError)
	case reg.Status == store.RegistrationPending:
		e.log.Info("engine: deregister call queued; it waits for the register call to end", "target", tg.Name, "installation", id, "job", reg.DeregisterJob)
	default:
		e.log.Info("engine: deregister call queued", "target", tg.Name, "installation", id, "job", reg.DeregisterJob)
		e.Wake()
	}
	return nil
}

// hookToken is the token of an installation's URL (…/hooks/<token>), or "".
func hookToken(targetURL string) string {
	if i := strings.LastIndex(targetURL, "/hooks/"); i >= 0 {
		return targetURL[i+len("/hooks/"):]
	}
	return ""
}

// targetCallsTimeout is the longest timeout of cfg's target calls.
func targetCallsTimeout(cfg *rules.Config) time.Duration {
	var longest time.Duration
	for _, t := range cfg.Targets {
		for _, c := range []*rules.TargetCall{t.Register, t.Deregister} {
			if c != nil {
				longest = max(longest, targetCallTimeout(c))
			}
		}
	}
	return longest
}

func targetCallTimeout(c *rules.TargetCall) time.Duration {
	if t := c.Timeout.Std(); t > 0 {
		return t
	}
	return callouts.DefaultTimeout
}

// targetCallOf returns the call job is an attempt of, under the configuration in
// force, or nil with the reason.
func targetCallOf(state *configState, job store.Job, p targetCallPayload) (*rules.TargetURL, *rules.TargetCall, string) {
	t, ok := state.cfg.Target(p.Target)
	if !ok {
		return nil, nil, fmt.Sprintf("target URL %q is no longer configured", p.Target)
	}
	c := t.Register
	if job.EventKind == store.EventDeregister {
		c = t.Deregister
	}
	if c == nil {
		return nil, nil, fmt.Sprintf("target URL %q no longer declares %s", p.Target, job.EventKind)
	}
	return t, c, ""
}

// targetCallLimit is the longest one attempt of target call job may take.
func targetCallLimit(state *configState, job store.Job) time.Duration {
	var p targetCallPayload
	if json.Unmarshal(job.Payload, &p) != nil {
		return time.Second
	}
	if _, c, _ := targetCallOf(state, job, p); c != nil {
		return targetCallTimeout(c)
	}
	return time.Second // nothing is sent: the job fails at once
}

// attemptTargetCall makes one attempt of a register or deregister call.
func (e *Engine) attemptTargetCall(ctx context.Context, state *configState, sender *callouts.Sender, job store.Job) store.Outcome {
	var p targetCallPayload
	if err := json.Unmarshal(job.Payload, &p); err != nil {
		return e.permanentFailure(job, fmt.Sprintf("unreadable target call payload: %v", err))
	}
	deregister := job.EventKind == store.EventDeregister
	start := e.now()
	out := store.Outcome{ID: job.ID, Attempt: store.Attempt{StartedAt: start}}
	final := func(reason string) store.Outcome { // a failure no retry can mend
		out.Status, out.Attempt.Error = store.StatusFailed, reason
		out.Registration = &store.RegistrationUpdate{TargetID: job.EntryID, Deregister: deregister, Status: store.RegistrationFailed,
			DeregisterStatus: store.DeregistrationFailed, Error: reason, At: start}
		return out
	}
	t, call, reason := targetCallOf(state, job, p)
	if call == nil {
		return final(reason)
	}
	tg, err := e.store.GetTarget(ctx, job.EntryID)
	var reg store.Registration
	if err == nil {
		reg, err = e.store.GetRegistration(ctx, job.EntryID)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return final(fmt.Sprintf("installation %s or its registration no longer exists", job.EntryID))
	case err != nil:
		return e.retryTargetCall(out, job, p.Policy, callouts.Result{}, "read the installation: "+err.Error(), deregister)
	}
	if deregister {
		switch reg.Status {
		case store.RegistrationFailed:
			e.log.Info("engine: deregister call skipped", "target", t.Name, "installation", tg.ID, "reason", store.SkippedDeregistration)
			out.Status, out.Attempt.Error = store.StatusFailed, "skipped: "+store.SkippedDeregistration
			out.Registration = &store.RegistrationUpdate{TargetID: tg.ID, Deregister: true, DeregisterStatus: store.DeregistrationSkipped,
				Error: store.SkippedDeregistration, At: start}
			return out
		case store.RegistrationPending: // due before the register call ended (retried by hand): wait again
			out.Status, out.NextAt, out.Attempt.Error = store.StatusPending, start.Add(DeregisterHold), "waiting for the register call to end"
			return out
		}
	}
	targetURL, err := rules.Secret(reg.TargetURL).Value(e.key)
	if err != nil {
		return final("the installation's URL: " + err.Error())
	}
	data := any(registerData(t, tg, targetURL))
	if deregister {
		data = rules.DeregisterData{RegisterData: data.(rules.RegisterData), RegistrationID: reg.RegistrationID}
	}
	rendered, err := call.Render(data)
	if err != nil {
		return final(fmt.Sprintf("not rendered: %s %v", job.EventKind, err))
	}
	password, err := call.Password.Value(e.key)
	if err != nil {
		return final(fmt.Sprintf("target URL %q: %s password: %v", t.Name, job.EventKind, err))
	}
	req := &callouts.Request{Method: rendered.Method, URL: rendered.URL, Header: rendered.Header, Body: rendered.Body, SecretHeaders: call.SecretHeaders}
	res, sendErr := sender.Send(egress.WithOrigin(ctx, egress.FromConfig), req, job.ID, targetCallTimeout(call), callouts.Credentials{Username: call.Username, Password: password})
	e.metrics.attempted(job.Callout, res, sendErr == nil)
	body := res.Response // as received, for id_path
	token := hookToken(targetURL)
	if token != "" { // a product may echo the URL back
		res.Response = bytes.ReplaceAll(res.Response, []byte(token), []byte(rules.Masked))
	}
	out.Attempt = store.Attempt{StartedAt: start, Duration: res.Duration, StatusCode: res.StatusCode, Response: res.Response}
	if sendErr != nil {
		// The rendered URL and body hold the installation's token: never in a reason.
		reason := rules.MaskURLsIn(sendErr.Error())
		if token != "" {
			reason = strings.ReplaceAll(reason, token, rules.Masked)
		}
		return e.retryTargetCall(out, job, p.Policy, res, reason, deregister)
	}
	out.Status = store.StatusDelivered
	if deregister {
		out.Registration = &store.RegistrationUpdate{TargetID: tg.ID, Deregister: true, DeregisterStatus: store.DeregistrationDeregistered, At: start}
		e.log.Info("engine: installation deregistered", "target", t.Name, "installation", tg.ID, "registration_id", reg.RegistrationID)
		return out
	}
	id := ""
	if call.IDPath != "" {
		if id, err = rules.RegistrationIDAt(body, call.IDPath); err != nil {
			// The product answered 2xx: it may well have registered. Sending again
			// could register twice, so the registration fails here, saying why.
			reason := fmt.Sprintf("registered with status %d, but %v (id_path %s)", res.StatusCode, err, call.IDPath)
			e.log.Warn("engine: register call: no registration ID", "target", t.Name, "installation", tg.ID, "reason", reason)
			out.Status, out.Attempt.Error = store.StatusFailed, reason
			out.Registration = &store.RegistrationUpdate{TargetID: tg.ID, Status: store.RegistrationFailed, Error: reason, At: start}
			return out
		}
	}
	out.Registration = &store.RegistrationUpdate{TargetID: tg.ID, Status: store.RegistrationRegistered, RegistrationID: id, At: start}
	e.log.Info("engine: installation registered", "target", t.Name, "installation", tg.ID, "registration_id", id)
	return out
}

// retryTargetCall completes out for a failed attempt of a target call: rescheduled
// by the call's policy, or failed (with the registration marked failed) when the
// attempts are used up.
func (e *Engine) retryTargetCall(out store.Outcome, job store.Job, policy callouts.Policy, res callouts.Result, reason string, deregister bool) store.Outcome {
	out.Attempt.Error = reason
	attempts := job.Attempts + 1
	if attempts >= job.MaxAttempts {
		out.Status = store.StatusFailed
		out.Registration = &store.RegistrationUpdate{TargetID: job.EntryID, Deregister: deregister, Status: store.RegistrationFailed,
			DeregisterStatus: store.DeregistrationFailed, Error: reason, At: out.Attempt.StartedAt}
		e.log.Warn("engine: target call failed after its last attempt", "call", job.EventKind, "target", job.Form, "installation", job.EntryID, "attempts", attempts, "error", reason)
		return out
	}
	next, ok := policy.Next(min(attempts, policy.Attempts()-1), e.now(), res, rand.Float64)
	if !ok {
		next = e.now().Add(policy.Interval)
	}
	out.Status, out.NextAt = store.StatusPending, next
	return out
}
