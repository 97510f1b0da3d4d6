package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// twoCallouts fires RMM and Audit on a completed ticket; rule "Set title" only
// sets a field (it enqueues nothing but still counts as fired).
const twoCallouts = `
callouts:
  - name: RMM
    url: {{URL}}/hook
    format: name-value
    retry: {interval: 1s, max: 2}
  - name: Audit
    url: {{URL}}/audit?api_key=s3cret
    format: json
  - name: Spare
    active: false
    url: {{URL}}/spare
    format: json
rules:
  - name: Close alert
    form: Ticket
    events: [update]
    condition: "'Status' = \"Complete\""
    callouts: [RMM, Audit]
  - name: Set title
    form: Ticket
    events: [update]
    set: {Title: '"closed"'}
`

// TestOverridesAcrossNodesRestartsAndReloads switches a callout and a rule off on
// one engine and checks that a second engine on the same store follows, that both
// keep the override over Reload and a restart, and that the listings say where
// each value comes from — on SQLite and PostgreSQL.
func TestOverridesAcrossNodesRestartsAndReloads(t *testing.T) {
	for _, tc := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", sqliteDSN}, {"postgres", postgresDSN}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			rc := newReceiver(t, nil)
			dsn := tc.dsn(t)
			cfg := parseConfig(t, rc.URL, twoCallouts)
			a := openEngine(t, Options{Config: cfg, Store: dsn, NoDispatch: true})
			b := openEngine(t, Options{Config: cfg, Store: dsn, NoDispatch: true})

			info, err := a.SetCalloutActive(ctx, "Audit", false)
			if err != nil {
				t.Fatal(err)
			}
			if info.Active || info.ActiveSource != SourceAPI || strings.Join(info.Rules, ",") != "Close alert" {
				t.Errorf("after deactivate: %+v; want inactive from api, used by Close alert", info)
			}
			res, err := a.Handle(ctx, completeEvent(1))
			if err != nil {
				t.Fatal(err)
			}
			if got := calloutsFired(res); got != "RMM" {
				t.Errorf("node a fired %q, want RMM only (Audit is off)", got)
			}
			if got := skipped(res); got != "Audit:inactive" {
				t.Errorf("node a skipped %q, want Audit:inactive", got)
			}
			// Node b sees the change once its watch reads the new revision.
			waitFor(t, 10*time.Second, "node b to apply the override", func() bool {
				c, ok := b.Config().Callout("Audit")
				return ok && !c.IsActive()
			})
			if res, err := b.Handle(ctx, completeEvent(2)); err != nil || calloutsFired(res) != "RMM" {
				t.Errorf("node b fired %q, %v; want RMM", calloutsFired(res), err)
			}

			// Reload (SIGHUP) keeps the override; so does a restart.
			if err := a.Reload(parseConfig(t, rc.URL, twoCallouts)); err != nil {
				t.Fatal(err)
			}
			if res, _ := a.Handle(ctx, completeEvent(3)); calloutsFired(res) != "RMM" {
				t.Errorf("after Reload fired %q, want RMM", calloutsFired(res))
			}
			c := openEngine(t, Options{Config: cfg, Store: dsn, NoDispatch: true})
			if res, _ := c.Handle(ctx, completeEvent(4)); calloutsFired(res) != "RMM" {
				t.Errorf("after restart fired %q, want RMM", calloutsFired(res))
			}

			// A rule switched off neither fires nor sets.
			if _, err := c.SetRuleActive(ctx, "Set title", false); err != nil {
				t.Fatal(err)
			}
			if res, _ := c.Handle(ctx, completeEvent(5)); len(res.Set) != 0 {
				t.Errorf("inactive rule set %v", res.Set)
			}
			// A file-inactive callout switched on through the API fires (it is
			// not named by a rule here, so it shows as active from the api).
			sp, err := c.SetCalloutActive(ctx, "Spare", true)
			if err != nil || !sp.Active || sp.ActiveSource != SourceAPI {
				t.Errorf("activate Spare = %+v, %v", sp, err)
			}

			list, err := c.Callouts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ci := range list {
				got = append(got, ci.Name+":"+boolWord(ci.Active)+":"+ci.ActiveSource)
			}
			if want := "RMM:on:file Audit:off:api Spare:on:api"; strings.Join(got, " ") != want {
				t.Errorf("callouts = %s, want %s", strings.Join(got, " "), want)
			}
			if list[0].Stats.Pending != 5 || list[0].Stats.Last.ID == "" || list[1].Stats.Pending != 0 {
				t.Errorf("RMM stats %+v, Audit stats %+v; want 5 pending RMM deliveries, none of Audit", list[0].Stats, list[1].Stats)
			}
			// Each node writes its counts once a second; c adds its own unwritten ones.
			var rl []RuleInfo
			waitFor(t, 10*time.Second, "the firings of every node to be counted", func() bool {
				var err error
				if rl, err = c.Rules(ctx); err != nil {
					t.Fatal(err)
				}
				return rl[0].FireCount == 5 && rl[1].FireCount == 4
			})
			// Close alert fired for events 1-5; Set title for 1-4 only (it was
			// off for 5), though it enqueues nothing.
			if rl[0].Name != "Close alert" || rl[0].FireCount != 5 || rl[0].LastFired.IsZero() || rl[0].ActiveSource != SourceFile {
				t.Errorf("rule Close alert = %+v", rl[0])
			}
			if rl[1].Name != "Set title" || rl[1].FireCount != rl[0].FireCount-1 || rl[1].Active || rl[1].ActiveSource != SourceAPI {
				t.Errorf("rule Set title = %+v; want %d firings, inactive from the api", rl[1], rl[0].FireCount-1)
			}

			for _, err := range []error{
				func() error { _, err := a.SetCalloutActive(ctx, "Nope", false); return err }(),
				func() error { _, err := a.SetRuleActive(ctx, "Nope", false); return err }(),
			} {
				if !errors.Is(err, ErrUnknownName) {
					t.Errorf("unknown name: %v, want ErrUnknownName", err)
				}
			}
		})
	}
}

// TestDeactivatedCalloutKeepsPendingDeliveries: switching a callout off stops new
// deliveries only; the ones already in the outbox are still delivered.
func TestDeactivatedCalloutKeepsPendingDeliveries(t *testing.T) {
	ctx := context.Background()
	rc := newReceiver(t, nil)
	dsn := sqliteDSN(t)
	cfg := parseConfig(t, rc.URL, oneCallout)
	queued := openEngine(t, Options{Config: cfg, Store: dsn, NoDispatch: true})
	res, err := queued.Handle(ctx, completeEvent(1))
	if err != nil || len(res.Fired) != 1 {
		t.Fatalf("Handle = %v, %v", res, err)
	}
	if _, err := queued.SetCalloutActive(ctx, "RMM", false); err != nil {
		t.Fatal(err)
	}
	if res, _ := queued.Handle(ctx, completeEvent(2)); len(res.Fired) != 0 {
		t.Errorf("inactive callout fired: %+v", res.Fired)
	}
	queued.Close()
	e := openEngine(t, Options{Config: cfg, Store: dsn})
	job, _ := waitSettled(t, e.Store(), res.Fired[0].DeliveryID, 10*time.Second)
	if job.Status != "delivered" || rc.count() != 1 {
		t.Errorf("pending delivery of a deactivated callout: %s, %d requests; want delivered once", job.Status, rc.count())
	}
}

// TestTestCallout renders a callout for a sample event and sends it once outside
// the outbox.
func TestTestCallout(t *testing.T) {
	ctx := context.Background()
	rc := newReceiver(t, nil)
	e := openEngine(t, Options{Config: parseConfig(t, rc.URL, twoCallouts), Store: sqliteDSN(t)})
	dry, err := e.TestCallout(ctx, "Audit", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if dry.Response != nil || dry.DeliveryID != "" || !strings.Contains(string(dry.Request.Body), `"Sample Title"`) {
		t.Errorf("dry run = %+v body %s; want the sample event rendered, nothing sent", dry, dry.Request.Body)
	}
	if rc.count() != 0 {
		t.Errorf("dry run sent %d requests", rc.count())
	}
	sent, err := e.TestCallout(ctx, "Audit", completeEvent(9), true)
	if err != nil {
		t.Fatal(err)
	}
	if sent.Response == nil || sent.Response.Status != 200 || string(sent.Response.Body) != "ok" || sent.Response.Error != "" {
		t.Errorf("send = %+v", sent.Response)
	}
	if rc.count() != 1 || rc.requests()[0].Key != sent.DeliveryID || !strings.HasPrefix(sent.DeliveryID, "test_") {
		t.Errorf("receiver saw %d requests, key %q; want one with Idempotency-Key %s", rc.count(), rc.requests()[0].Key, sent.DeliveryID)
	}
	if jobs := jobsOf(t, e.Store(), "callout"); len(jobs) != 0 {
		t.Errorf("test send stored %d deliveries, want none", len(jobs))
	}
	if _, err := e.TestCallout(ctx, "Nope", nil, false); !errors.Is(err, ErrUnknownName) {
		t.Errorf("unknown callout: %v", err)
	}
}

func calloutsFired(res *Result) string {
	var out []string
	for _, f := range res.Fired {
		out = append(out, f.Callout)
	}
	return strings.Join(out, ",")
}

func skipped(res *Result) string {
	var out []string
	for _, m := range res.Matches {
		for _, s := range m.Skipped {
			out = append(out, s.Callout.Name+":"+s.Reason)
		}
	}
	return strings.Join(out, ",")
}

func boolWord(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
