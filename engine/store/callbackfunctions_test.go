package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// testCallbackFunctions: create (with its token, atomically), a duplicate, update,
// list, delete (its token too), bulk token writes, and the revision moving on
// every change, seen from a second handle on the same database.
func testCallbackFunctions(t *testing.T, open opener) {
	ctx := context.Background()
	s, reopen := open(t)
	other := reopen()
	rev := func() int64 {
		t.Helper()
		r, err := other.Revision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r0 := rev()
	tok := CallbackToken{Published: true, TokenHash: HashToken("secret-1")}
	f, err := s.CreateCallbackFunction(ctx, CallbackFunction{APIName: "close_ticket", Document: []byte(`{"a":1}`)}, &tok, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !f.CreatedAt.Equal(t0) || !f.UpdatedAt.Equal(t0) {
		t.Errorf("created %+v", f)
	}
	if r1 := rev(); r1 <= r0 {
		t.Errorf("revision %d after create, was %d", r1, r0)
	}
	ct, err := other.GetCallbackToken(ctx, "close_ticket")
	if err != nil || !ct.Published || ct.TokenHash != HashToken("secret-1") {
		t.Errorf("token after create: %+v, %v", ct, err)
	}
	if _, err := s.CreateCallbackFunction(ctx, CallbackFunction{APIName: "close_ticket"}, nil, t0); !errors.Is(err, ErrDuplicate) ||
		err.Error() != "store: callback function close_ticket: duplicate" {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := s.CreateCallbackFunction(ctx, CallbackFunction{}, nil, t0); err == nil || err.Error() != "store: callback function: empty API name" {
		t.Errorf("empty name: %v", err)
	}
	// A stale token of a name is not inherited by a new function of that name.
	if _, err := s.PutCallbackToken(ctx, CallbackToken{APIName: "reborn", Published: true, TokenHash: HashToken("old")}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateCallbackFunction(ctx, CallbackFunction{APIName: "reborn", Document: []byte(`{}`)}, nil, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := other.GetCallbackToken(ctx, "reborn"); !errors.Is(err, ErrNotFound) {
		t.Errorf("reborn token: %v, want not found", err)
	}

	r2 := rev()
	later := t0.Add(5 * time.Second)
	up, err := s.UpdateCallbackFunction(ctx, CallbackFunction{APIName: "close_ticket", Document: []byte(`{"a":2}`)}, later)
	if err != nil || !up.CreatedAt.Equal(t0) || !up.UpdatedAt.Equal(later) {
		t.Fatalf("update: %+v, %v", up, err)
	}
	if rev() <= r2 {
		t.Error("revision did not move on update")
	}
	if _, err := s.UpdateCallbackFunction(ctx, CallbackFunction{APIName: "nope"}, later); !errors.Is(err, ErrNotFound) ||
		err.Error() != "store: callback function nope: not found" {
		t.Errorf("update unknown: %v", err)
	}
	got, err := other.GetCallbackFunction(ctx, "close_ticket")
	if err != nil || string(got.Document) != `{"a":2}` {
		t.Errorf("get: %+v, %v", got, err)
	}
	if ct, _ := other.GetCallbackToken(ctx, "close_ticket"); !ct.Published {
		t.Error("update changed the publication state")
	}
	list, err := other.ListCallbackFunctions(ctx)
	if err != nil || len(list) != 2 || list[0].APIName != "close_ticket" || list[1].APIName != "reborn" {
		t.Errorf("list: %+v, %v", list, err)
	}

	// Bulk tokens: all or nothing.
	if err := s.PutCallbackTokens(ctx, []CallbackToken{{APIName: "reborn", Published: true}, {APIName: ""}}, later); err == nil {
		t.Error("bulk with an empty name succeeded")
	}
	if _, err := other.GetCallbackToken(ctx, "reborn"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a refused bulk stored a token: %v", err)
	}
	if err := s.PutCallbackTokens(ctx, []CallbackToken{{APIName: "reborn", Published: true, TokenHash: HashToken("r")}, {APIName: "close_ticket", Published: false}}, later); err != nil {
		t.Fatal(err)
	}
	all, _ := other.ListCallbackTokens(ctx)
	if len(all) != 2 || all[0].Published || !all[1].Published {
		t.Errorf("tokens after bulk: %+v", all)
	}

	if err := s.DeleteCallbackFunction(ctx, "close_ticket"); err != nil {
		t.Fatal(err)
	}
	if _, err := other.GetCallbackFunction(ctx, "close_ticket"); !errors.Is(err, ErrNotFound) || err.Error() != "store: callback function close_ticket: not found" {
		t.Errorf("get deleted: %v", err)
	}
	if _, err := other.GetCallbackToken(ctx, "close_ticket"); !errors.Is(err, ErrNotFound) {
		t.Errorf("token of a deleted function: %v", err)
	}
	if err := s.DeleteCallbackFunction(ctx, "close_ticket"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
}
