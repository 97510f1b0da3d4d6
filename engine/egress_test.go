package engine

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// zoneResolver answers host names from a map; an unknown name is "no such host".
// The engine tests resolve through it so no lookup leaves the process.
type zoneResolver map[string][]string

func (z zoneResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	list, ok := z[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, s := range list {
		out = append(out, netip.MustParseAddr(s))
	}
	return out, nil
}

// firstAttempt waits for the first recorded attempt of delivery id.
func firstAttempt(t *testing.T, st *store.Store, id string) (store.Job, store.Attempt) {
	t.Helper()
	var (
		job      store.Job
		attempts []store.Attempt
	)
	waitFor(t, 10*time.Second, "the first attempt of "+id, func() bool {
		var err error
		job, attempts, err = st.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return len(attempts) > 0
	})
	return job, attempts[0]
}

// webhookTo registers an API webhook on Ticket updates calling url.
func webhookTo(t *testing.T, e *Engine, url string) *rules.Webhook {
	t.Helper()
	w, err := e.CreateWebhook(context.Background(), &rules.Webhook{
		FormName: "Ticket", EntryEvents: []rules.Kind{rules.KindUpdate},
		Callback: rules.WebhookCallback{URL: url},
	})
	if err != nil {
		t.Fatalf("CreateWebhook: %v", err)
	}
	return w
}

// deliveryOf returns the delivery ID of the callout named callout in res.
func deliveryOf(t *testing.T, res *Result, callout string) string {
	t.Helper()
	for _, f := range res.Fired {
		if f.Callout == callout {
			return f.DeliveryID
		}
	}
	t.Fatalf("callout %q did not fire: %+v", callout, res.Fired)
	return ""
}

// TestEgressEndToEnd runs the engine against a receiver on 127.0.0.1: a webhook
// registered through the API may not reach it unless egress.allow says so; the
// file's own callout reaches it unless egress.strict; a name resolving to a
// link-local address fails the attempt with the reason in the attempt log.
func TestEgressEndToEnd(t *testing.T) {
	const loAPI = "egress refused: 127.0.0.1 is loopback, refused for API-registered webhooks (egress.allow lifts this)"
	rc := newReceiver(t, nil)
	dns := zoneResolver{"receiver.test": {"127.0.0.1"}, "metadata.test": {"169.254.169.254"}, "rebind.test": {"10.0.0.1", "127.0.0.1"}}
	open := func(t *testing.T, egress string) *Engine {
		cfg := parseConfig(t, rc.URL, egress+oneCallout)
		return openEngine(t, Options{Config: cfg, Store: sqliteDSN(t), Resolver: dns, PollInterval: 10 * time.Millisecond})
	}

	t.Run("API webhook to loopback refused on PostgreSQL too", func(t *testing.T) {
		cfg := parseConfig(t, rc.URL, oneCallout)
		e := openEngine(t, Options{Config: cfg, Store: postgresDSN(t), Resolver: dns, PollInterval: 10 * time.Millisecond})
		w := webhookTo(t, e, rc.URL+"/api-hook")
		res, err := e.Handle(context.Background(), completeEvent(9))
		if err != nil {
			t.Fatal(err)
		}
		_, a := firstAttempt(t, e.Store(), deliveryOf(t, res, "webhook "+w.WebhookID))
		if !strings.HasSuffix(a.Error, loAPI) {
			t.Errorf("attempt error %q, want …%s", a.Error, loAPI)
		}
	})

	t.Run("API webhook to loopback refused by default", func(t *testing.T) {
		e := open(t, "")
		w := webhookTo(t, e, rc.URL+"/api-hook")
		before := rc.count()
		res, err := e.Handle(context.Background(), completeEvent(1))
		if err != nil {
			t.Fatal(err)
		}
		job, a := firstAttempt(t, e.Store(), deliveryOf(t, res, "webhook "+w.WebhookID))
		if !strings.HasSuffix(a.Error, loAPI) || a.StatusCode != 0 {
			t.Errorf("attempt error %q, want …%s", a.Error, loAPI)
		}
		if p, err := DecodeDeliveryPayload(job.Payload); err != nil || p.Origin != originAPI {
			t.Errorf("payload %+v (%v), want origin %q", p, err, originAPI)
		}
		// The file's callout fired by the same event reached the receiver.
		waitSettled(t, e.Store(), deliveryOf(t, res, "RMM"), 10*time.Second)
		for _, h := range rc.requests()[before:] {
			if h.Path == "/api-hook" {
				t.Errorf("the API webhook reached the receiver")
			}
		}
	})

	t.Run("API webhook to loopback delivered with egress.allow", func(t *testing.T) {
		e := open(t, "egress: {allow: [127.0.0.0/8]}\n")
		w := webhookTo(t, e, rc.URL+"/api-hook")
		res, err := e.Handle(context.Background(), completeEvent(2))
		if err != nil {
			t.Fatal(err)
		}
		job, _ := waitSettled(t, e.Store(), deliveryOf(t, res, "webhook "+w.WebhookID), 10*time.Second)
		if job.Status != store.StatusDelivered {
			t.Errorf("status %s, want delivered", job.Status)
		}
	})

	t.Run("API webhook to a name resolving to loopback among others", func(t *testing.T) {
		e := open(t, "")
		w := webhookTo(t, e, strings.Replace(rc.URL, "127.0.0.1", "rebind.test", 1)+"/api-hook")
		res, err := e.Handle(context.Background(), completeEvent(3))
		if err != nil {
			t.Fatal(err)
		}
		_, a := firstAttempt(t, e.Store(), deliveryOf(t, res, "webhook "+w.WebhookID))
		if want := loAPI + " (rebind.test resolves to it)"; !strings.HasSuffix(a.Error, want) {
			t.Errorf("attempt error %q, want …%s", a.Error, want)
		}
	})

	t.Run("file callout to loopback refused with egress.strict", func(t *testing.T) {
		e := open(t, "egress: {strict: true}\n")
		before := rc.count()
		res, err := e.Handle(context.Background(), completeEvent(4))
		if err != nil {
			t.Fatal(err)
		}
		job, a := firstAttempt(t, e.Store(), deliveryOf(t, res, "RMM"))
		want := "egress refused: 127.0.0.1 is loopback, refused by egress.strict (egress.allow lifts this)"
		if !strings.HasSuffix(a.Error, want) {
			t.Errorf("attempt error %q, want …%s", a.Error, want)
		}
		if p, err := DecodeDeliveryPayload(job.Payload); err != nil || p.Origin != "" {
			t.Errorf("file callout origin %q, want empty", p.Origin)
		}
		if rc.count() != before {
			t.Errorf("the strict callout reached the receiver")
		}
	})

	t.Run("file callout by a name resolving to link-local", func(t *testing.T) {
		e := openEngine(t, Options{Config: parseConfig(t, strings.Replace(rc.URL, "127.0.0.1", "metadata.test", 1), oneCallout), Store: sqliteDSN(t), Resolver: dns})
		res, err := e.Handle(context.Background(), completeEvent(5))
		if err != nil {
			t.Fatal(err)
		}
		_, a := firstAttempt(t, e.Store(), deliveryOf(t, res, "RMM"))
		if want := "egress refused: 169.254.169.254 is link-local (metadata.test resolves to it)"; !strings.HasSuffix(a.Error, want) {
			t.Errorf("attempt error %q, want …%s", a.Error, want)
		}
	})

	t.Run("file callout by a name: the vetted address is dialled", func(t *testing.T) {
		e := openEngine(t, Options{Config: parseConfig(t, strings.Replace(rc.URL, "127.0.0.1", "receiver.test", 1), oneCallout), Store: sqliteDSN(t), Resolver: dns})
		res, err := e.Handle(context.Background(), completeEvent(6))
		if err != nil {
			t.Fatal(err)
		}
		job, _ := waitSettled(t, e.Store(), deliveryOf(t, res, "RMM"), 10*time.Second)
		if job.Status != store.StatusDelivered {
			t.Errorf("status %s, want delivered", job.Status)
		}
	})

	t.Run("reload to egress.deny refuses the next attempt", func(t *testing.T) {
		e := open(t, "")
		if _, err := e.Handle(context.Background(), completeEvent(7)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the first delivery", func() bool {
			return len(jobsOf(t, e.Store(), store.KindCallout)) == 1 && jobsOf(t, e.Store(), store.KindCallout)[0].Status == store.StatusDelivered
		})
		if err := e.Reload(parseConfig(t, rc.URL, "egress: {deny: [127.0.0.0/8]}\n"+oneCallout)); err != nil {
			t.Fatal(err)
		}
		res, err := e.Handle(context.Background(), completeEvent(8))
		if err != nil {
			t.Fatal(err)
		}
		_, a := firstAttempt(t, e.Store(), deliveryOf(t, res, "RMM"))
		if want := "egress refused: 127.0.0.1 is in egress.deny 127.0.0.0/8"; !strings.HasSuffix(a.Error, want) {
			t.Errorf("attempt error %q, want …%s (a kept-alive connection was reused?)", a.Error, want)
		}
	})
}
