package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Webhook is an AR System webhook registered through the HTTP API. The store keeps
// the caller's JSON document as opaque bytes (with the callback password already
// encrypted) plus the three fields that identify a registration.
type Webhook struct {
	ID        string // WBH followed by 12 digits, allocated by CreateWebhook
	Form      string
	Events    string // normalised by NormalizeEvents: lower case, sorted, comma separated
	URL       string // the callback URL
	Document  []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NormalizeEvents returns events lower-cased, trimmed, deduplicated, sorted and
// joined with commas: the form in which (form, events, url) is unique.
func NormalizeEvents(events []string) string {
	set := map[string]bool{}
	for _, e := range events {
		if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
			set[e] = true
		}
	}
	out := make([]string, 0, len(set))
	for e := range set {
		out = append(out, e)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// WebhookID formats the n-th webhook ID: WBH000000000101 for 101.
func WebhookID(n int64) string { return fmt.Sprintf("WBH%012d", n) }

const webhookColumns = "id, form, events, url, document, created_at, updated_at"

func scanWebhook(r rows) (Webhook, error) {
	var w Webhook
	err := r.Scan(&w.ID, &w.Form, &w.Events, &w.URL, &w.Document, &w.CreatedAt, &w.UpdatedAt)
	return w, err
}

func checkWebhook(w Webhook) error {
	switch {
	case w.Form == "":
		return errors.New("store: webhook: empty form")
	case w.Events == "":
		return errors.New("store: webhook: no events")
	case w.Events != NormalizeEvents(strings.Split(w.Events, ",")):
		return fmt.Errorf("store: webhook: events %q not normalised (use NormalizeEvents)", w.Events)
	case w.URL == "":
		return errors.New("store: webhook: empty callback URL")
	}
	return nil
}

// bumpRevision advances the registry revision inside t.
func bumpRevision(ctx context.Context, t tx) error {
	_, err := t.exec(ctx, "UPDATE counters SET value = value + 1 WHERE name = 'revision'")
	return err
}

// CreateWebhook stores w under the next webhook ID (allocated atomically from a
// sequence: WBH000000000001, WBH000000000002, …) and returns it as stored. w.ID is
// ignored. A registration with the same (form, events, url) fails with ErrDuplicate.
func (s *Store) CreateWebhook(ctx context.Context, w Webhook, now time.Time) (Webhook, error) {
	if err := checkWebhook(w); err != nil {
		return Webhook{}, err
	}
	if s.committer.isClosed() {
		return Webhook{}, ErrClosed
	}
	now = utc(now)
	w.CreatedAt, w.UpdatedAt = now, now
	if w.Document == nil {
		w.Document = []byte{}
	}
	err := writeTx(ctx, s.db, func(t tx) error {
		if err := s.webhookConflict(ctx, t, w); err != nil {
			return err
		}
		var n int64
		if _, err := queryRow(ctx, t, "UPDATE counters SET value = value + 1 WHERE name = 'webhook_id' RETURNING value", nil, &n); err != nil {
			return err
		}
		w.ID = WebhookID(n)
		if _, err := t.exec(ctx, "INSERT INTO webhooks ("+webhookColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)",
			w.ID, w.Form, w.Events, w.URL, w.Document, w.CreatedAt, w.UpdatedAt); err != nil {
			return err
		}
		return bumpRevision(ctx, t)
	})
	if err != nil {
		return Webhook{}, s.registryErr("create webhook", err)
	}
	return w, nil
}

// webhookConflict returns ErrDuplicate when another webhook has w's (form, events,
// url); checking first keeps the transaction usable on PostgreSQL.
func (s *Store) webhookConflict(ctx context.Context, t tx, w Webhook) error {
	var other string
	ok, err := queryRow(ctx, t, "SELECT id FROM webhooks WHERE form = ? AND events = ? AND url = ? AND id <> ?",
		[]any{w.Form, w.Events, w.URL, w.ID}, &other)
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("store: webhook for form %q, events %q and url %q: %w of %s", w.Form, w.Events, w.URL, ErrDuplicate, other)
	}
	return nil
}

// registryErr wraps a database error; store errors (ErrNotFound, ErrDuplicate, …)
// pass through, and a unique violation that slipped past the checks (a concurrent
// writer on PostgreSQL) becomes ErrDuplicate.
func (s *Store) registryErr(what string, err error) error {
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrDuplicate):
		return err
	case s.db.isUnique(err):
		return fmt.Errorf("store: %s: %w", what, ErrDuplicate)
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

// registryOne reads the one row of query with scan in a read transaction. No row is
// ErrNotFound, as "store: <name>: not found"; other errors pass through
// registryErr(what, …).
func registryOne[T any](ctx context.Context, s *Store, what, name string, scan func(rows) (T, error), query string, args ...any) (T, error) {
	var v T
	if s.committer.isClosed() {
		return v, ErrClosed
	}
	err := readTx(ctx, s.db, func(t tx) error {
		var ok bool
		var err error
		v, ok, err = queryOne(ctx, t, scan, query, args...)
		if err == nil && !ok {
			err = fmt.Errorf("store: %s: %w", name, ErrNotFound)
		}
		return err
	})
	if err != nil {
		var zero T
		return zero, s.registryErr(what, err)
	}
	return v, nil
}

// registryAll reads every row of query with scan in a read transaction; errors
// pass through registryErr(what, …).
func registryAll[T any](ctx context.Context, s *Store, what string, scan func(rows) (T, error), query string, args ...any) ([]T, error) {
	if s.committer.isClosed() {
		return nil, ErrClosed
	}
	var vs []T
	err := readTx(ctx, s.db, func(t tx) error {
		var err error
		vs, err = queryAll(ctx, t, scan, query, args...)
		return err
	})
	if err != nil {
		return nil, s.registryErr(what, err)
	}
	return vs, nil
}

// registryChange runs query in a write transaction and advances the registry
// revision. A query that changes no row is ErrNotFound, as "store: <name>: not
// found"; other errors pass through registryErr(what, …).
func (s *Store) registryChange(ctx context.Context, what, name, query string, args ...any) error {
	if s.committer.isClosed() {
		return ErrClosed
	}
	err := writeTx(ctx, s.db, func(t tx) error {
		n, err := t.exec(ctx, query, args...)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("store: %s: %w", name, ErrNotFound)
		}
		return bumpRevision(ctx, t)
	})
	if err != nil {
		return s.registryErr(what, err)
	}
	return nil
}

// SkipWebhookIDs makes sure the next webhook ID CreateWebhook allocates is greater
// than WebhookID(n), so IDs registered through the API never collide with the
// webhooks of the configuration file (call it on start with their highest number).
// It never moves the sequence backwards.
func (s *Store) SkipWebhookIDs(ctx context.Context, n int64) error {
	if s.committer.isClosed() {
		return ErrClosed
	}
	err := writeTx(ctx, s.db, func(t tx) error {
		_, err := t.exec(ctx, "UPDATE counters SET value = CASE WHEN value < ? THEN ? ELSE value END WHERE name = 'webhook_id'", n, n)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: skip webhook ids: %w", err)
	}
	return nil
}

// GetWebhook returns the webhook with the given ID, or ErrNotFound.
func (s *Store) GetWebhook(ctx context.Context, id string) (Webhook, error) {
	return registryOne(ctx, s, "get webhook", "webhook "+id, scanWebhook, "SELECT "+webhookColumns+" FROM webhooks WHERE id = ?", id)
}

// ListWebhooks returns every registered webhook in ID order.
func (s *Store) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	return registryAll(ctx, s, "list webhooks", scanWebhook, "SELECT "+webhookColumns+" FROM webhooks ORDER BY id")
}

// UpdateWebhook replaces the form, events, URL and document of the webhook w.ID and
// returns it as stored. ErrNotFound if there is none; ErrDuplicate if another
// webhook has the new (form, events, url).
func (s *Store) UpdateWebhook(ctx context.Context, w Webhook, now time.Time) (Webhook, error) {
	if err := checkWebhook(w); err != nil {
		return Webhook{}, err
	}
	if s.committer.isClosed() {
		return Webhook{}, ErrClosed
	}
	w.UpdatedAt = utc(now)
	if w.Document == nil {
		w.Document = []byte{}
	}
	err := writeTx(ctx, s.db, func(t tx) error {
		ok, err := queryRow(ctx, t, "SELECT created_at FROM webhooks WHERE id = ?", []any{w.ID}, &w.CreatedAt)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("store: webhook %s: %w", w.ID, ErrNotFound)
		}
		if err := s.webhookConflict(ctx, t, w); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `UPDATE webhooks SET form = ?, events = ?, url = ?, document = ?, updated_at = ? WHERE id = ?`,
			w.Form, w.Events, w.URL, w.Document, w.UpdatedAt, w.ID); err != nil {
			return err
		}
		return bumpRevision(ctx, t)
	})
	if err != nil {
		return Webhook{}, s.registryErr("update webhook", err)
	}
	return w, nil
}

// DeleteWebhook removes the webhook with the given ID, or returns ErrNotFound. Its
// ID is never reused.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	return s.registryChange(ctx, "delete webhook", "webhook "+id, "DELETE FROM webhooks WHERE id = ?", id)
}

// Revision returns a number that grows whenever a webhook, target or callback token
// changes, so nodes sharing a store can poll it cheaply and reload only on change.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	if s.committer.isClosed() {
		return 0, ErrClosed
	}
	var rev int64
	err := readTx(ctx, s.db, func(t tx) error {
		_, err := queryRow(ctx, t, "SELECT value FROM counters WHERE name = 'revision'", nil, &rev)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: revision: %w", err)
	}
	return rev, nil
}

// Target is a Freshworks-style external-event target URL. Only the SHA-256 of its
// token is stored; the token itself is shown once, to whoever created the target.
type Target struct {
	ID        string // tgt_ + ULID, allocated by CreateTarget when empty
	Name      string // unique among active targets
	TokenHash TokenHash
	IParams   []byte // installation parameters, opaque JSON
	CreatedAt time.Time
	RevokedAt time.Time // zero while active
}

const targetColumns = "id, name, token_hash, iparams, created_at, revoked_at"

func scanTarget(r rows) (Target, error) {
	var tg Target
	var hash []byte
	if err := r.Scan(&tg.ID, &tg.Name, &hash, &tg.IParams, &tg.CreatedAt, &tg.RevokedAt); err != nil {
		return Target{}, err
	}
	if len(hash) != len(tg.TokenHash) {
		return Target{}, fmt.Errorf("target %s: token hash of %d bytes", tg.ID, len(hash))
	}
	copy(tg.TokenHash[:], hash)
	return tg, nil
}

// CreateTarget stores an active target (one installation, with its own token) and
// returns it as stored. A zero ID is generated. Several active targets may share a
// name. ErrDuplicate if a target has the same ID or token hash.
func (s *Store) CreateTarget(ctx context.Context, tg Target, now time.Time) (Target, error) {
	return s.createTarget(ctx, tg, now, nil)
}

// createTarget is CreateTarget running also, when it is not nil, with in the same
// transaction after the target's row is written.
func (s *Store) createTarget(ctx context.Context, tg Target, now time.Time, with func(t tx, tg Target) error) (Target, error) {
	switch {
	case tg.Name == "":
		return Target{}, errors.New("store: target: empty name")
	case tg.TokenHash == TokenHash{}:
		return Target{}, fmt.Errorf("store: target %q: zero token hash", tg.Name)
	}
	if s.committer.isClosed() {
		return Target{}, ErrClosed
	}
	now = utc(now)
	if tg.ID == "" {
		tg.ID = NewID(TargetIDPrefix, now)
	}
	tg.CreatedAt, tg.RevokedAt = now, time.Time{}
	if tg.IParams == nil {
		tg.IParams = []byte{}
	}
	err := writeTx(ctx, s.db, func(t tx) error {
		var other string
		ok, err := queryRow(ctx, t, `SELECT id FROM targets WHERE id = ? OR token_hash = ?`,
			[]any{tg.ID, tg.TokenHash[:]}, &other)
		if err != nil {
			return err
		}
		if ok {
			return fmt.Errorf("store: target %q: %w of %s", tg.Name, ErrDuplicate, other)
		}
		if _, err := t.exec(ctx, "INSERT INTO targets ("+targetColumns+") VALUES (?, ?, ?, ?, ?, ?)",
			tg.ID, tg.Name, tg.TokenHash[:], tg.IParams, tg.CreatedAt, tg.RevokedAt); err != nil {
			return err
		}
		if with != nil {
			if err := with(t, tg); err != nil {
				return err
			}
		}
		return bumpRevision(ctx, t)
	})
	if err != nil {
		return Target{}, s.registryErr("create target", err)
	}
	return tg, nil
}

// GetTarget returns the target with the given ID, active or revoked, or ErrNotFound.
func (s *Store) GetTarget(ctx context.Context, id string) (Target, error) {
	return s.oneTarget(ctx, "id = ?", id, id)
}

// TargetByTokenHash returns the active target whose token hashes to h, or
// ErrNotFound (also for a revoked target's token).
func (s *Store) TargetByTokenHash(ctx context.Context, h TokenHash) (Target, error) {
	return s.oneTarget(ctx, "token_hash = ? AND revoked_at IS NULL", h[:], "with this token")
}

func (s *Store) oneTarget(ctx context.Context, cond string, arg any, name string) (Target, error) {
	return registryOne(ctx, s, "get target", "target "+name, scanTarget, "SELECT "+targetColumns+" FROM targets WHERE "+cond, arg)
}

// ListTargets returns every target, active and revoked, in ID order.
func (s *Store) ListTargets(ctx context.Context) ([]Target, error) {
	return registryAll(ctx, s, "list targets", scanTarget, "SELECT "+targetColumns+" FROM targets ORDER BY id")
}

// RevokeTarget revokes the active target with the given ID: its token stops
// working at once. ErrNotFound if there is no such active target.
func (s *Store) RevokeTarget(ctx context.Context, id string, now time.Time) error {
	return s.registryChange(ctx, "revoke target", "target "+id, "UPDATE targets SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", utc(now), id)
}

// CallbackToken is the publication state of a ServiceDesk Plus–style callback
// function: whether it is published and the SHA-256 of its current token (a new
// token is generated on every publish).
type CallbackToken struct {
	APIName   string
	Published bool
	TokenHash TokenHash
	UpdatedAt time.Time
}

// PutCallbackToken creates or replaces the token state of ct.APIName and returns it
// as stored.
func (s *Store) PutCallbackToken(ctx context.Context, ct CallbackToken, now time.Time) (CallbackToken, error) {
	ct, _, err := s.putCallbackToken(ctx, ct, now, true)
	return ct, err
}

// AddCallbackToken stores ct only if ct.APIName has no token state yet, and reports
// whether it did. Nodes starting together use it to publish a function once: only
// the node whose token was stored hands it out.
func (s *Store) AddCallbackToken(ctx context.Context, ct CallbackToken, now time.Time) (bool, error) {
	_, added, err := s.putCallbackToken(ctx, ct, now, false)
	return added, err
}

func (s *Store) putCallbackToken(ctx context.Context, ct CallbackToken, now time.Time, replace bool) (CallbackToken, bool, error) {
	if ct.APIName == "" {
		return CallbackToken{}, false, errors.New("store: callback token: empty API name")
	}
	if s.committer.isClosed() {
		return CallbackToken{}, false, ErrClosed
	}
	ct.UpdatedAt = utc(now)
	conflict := "DO NOTHING"
	if replace {
		conflict = "DO UPDATE SET published = excluded.published, token_hash = excluded.token_hash, updated_at = excluded.updated_at"
	}
	var written bool
	err := writeTx(ctx, s.db, func(t tx) error {
		n, err := t.exec(ctx, `INSERT INTO callback_tokens (api_name, published, token_hash, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (api_name) `+conflict, ct.APIName, ct.Published, ct.TokenHash[:], ct.UpdatedAt)
		if err != nil || n == 0 {
			return err
		}
		written = true
		return bumpRevision(ctx, t)
	})
	if err != nil {
		return CallbackToken{}, false, s.registryErr("put callback token", err)
	}
	return ct, written, nil
}

// callbackTokenSelect selects the columns scanCallbackToken reads.
const callbackTokenSelect = "SELECT api_name, published, token_hash, updated_at FROM callback_tokens "

// GetCallbackToken returns the token state of apiName, or ErrNotFound if it was
// never stored.
func (s *Store) GetCallbackToken(ctx context.Context, apiName string) (CallbackToken, error) {
	return registryOne(ctx, s, "callback tokens", "callback token "+apiName, scanCallbackToken, callbackTokenSelect+"WHERE api_name = ?", apiName)
}

// ListCallbackTokens returns every stored callback token state, by API name.
func (s *Store) ListCallbackTokens(ctx context.Context) ([]CallbackToken, error) {
	return registryAll(ctx, s, "callback tokens", scanCallbackToken, callbackTokenSelect+"ORDER BY api_name")
}

func scanCallbackToken(r rows) (CallbackToken, error) {
	var ct CallbackToken
	var hash []byte
	if err := r.Scan(&ct.APIName, &ct.Published, &hash, &ct.UpdatedAt); err != nil {
		return CallbackToken{}, err
	}
	if len(hash) != len(ct.TokenHash) {
		return CallbackToken{}, fmt.Errorf("callback token %s: token hash of %d bytes", ct.APIName, len(hash))
	}
	copy(ct.TokenHash[:], hash)
	return ct, nil
}
