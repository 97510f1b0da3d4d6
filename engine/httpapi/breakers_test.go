package httpapi

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// TestDeliveriesShowBreakers: once an endpoint's breaker is open, GET
// /v1/deliveries lists it, and each pending delivery to that endpoint names it.
func TestDeliveriesShowBreakers(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	ts.firing(criticalCreate)
	ts.firing(completeUpdate)
	ctx := context.Background()
	st := ts.eng.Store()
	now := time.Now().UTC().Add(time.Second).Truncate(time.Second)
	claimed, err := st.Claim(ctx, "test", 1, time.Minute, now)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	c, _ := ts.eng.Config().Callout(claimed[0].Callout)
	ep := rules.Endpoint(c.URL)
	// The dispatcher's report of a failed attempt, with a threshold of one.
	res, err := st.Settle(ctx, "test", []store.Outcome{{
		ID: claimed[0].ID, Status: store.StatusPending, NextAt: now.Add(time.Minute),
		Attempt: store.Attempt{StartedAt: now, StatusCode: 503, Error: "HTTP 503"},
		Breaker: &store.BreakerReport{Endpoint: ep, Callout: c.Name, Failed: true, Threshold: 1, Cooldown: 30 * time.Second, MaxCooldown: time.Hour},
	}})
	if err != nil || res[0] != nil {
		t.Fatalf("settle: %v %v", err, res)
	}
	r := ts.admin("GET", "/v1/deliveries", nil)
	if r.status != 200 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	var l deliveryList
	decode(t, r, &l)
	until := now.Add(30 * time.Second)
	var same []string // the configured callouts on that endpoint
	for _, co := range ts.eng.Config().Callouts {
		if rules.Endpoint(co.URL) == ep {
			same = append(same, co.Name)
		}
	}
	want := []breakerJSON{{Endpoint: ep, State: "open", Failures: 1, Cooldown: "30s", OpenedAt: &now, OpenUntil: &until, Callouts: same}}
	if diff := cmp.Diff(want, l.Breakers); diff != "" {
		t.Errorf("breakers (-want +got):\n%s", diff)
	}
	for _, d := range l.Deliveries {
		other, _ := ts.eng.Config().Callout(d.Callout)
		switch {
		case rules.Endpoint(other.URL) == ep:
			if d.Breaker == nil || d.Breaker.State != "open" || !d.Breaker.OpenUntil.Equal(until) {
				t.Errorf("delivery %s of %s: breaker %+v, want open until %v", d.ID, d.Callout, d.Breaker, until)
			}
		case d.Breaker != nil:
			t.Errorf("delivery %s of %s to another endpoint: breaker %+v", d.ID, d.Callout, d.Breaker)
		}
	}
}
