package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// Errors of the webhook registry. Test for them with errors.Is. A webhook that
// does not exist is store.ErrNotFound, one with the same form, events and callback
// URL as another store.ErrDuplicate: the store's sentinels, declared once.
var (
	// ErrReadOnly means the webhook is defined in the configuration file and cannot
	// be changed through the API.
	ErrReadOnly = errors.New("defined in the configuration file")
	// ErrNoStore means the engine runs without an outbox, so it cannot register webhooks.
	ErrNoStore = errors.New("engine has no store")
)

// InvalidError is a webhook the API cannot accept: a bad body or an invalid
// condition. Its message names the problem (for a condition, the positioned
// qualification error).
type InvalidError struct{ Msg string }

// Error returns the message: what is wrong with the webhook.
func (e *InvalidError) Error() string { return e.Msg }

// watchInterval is how often an engine on a shared store checks whether another
// node changed the registered webhooks.
const watchInterval = 2 * time.Second

// storedWebhook is the document the store keeps for a registered webhook. It is
// rules.Webhook with the callback password kept (encrypted) rather than masked.
type storedWebhook struct {
	Description   string            `json:"description,omitempty"`
	FormName      string            `json:"form_name"`
	Condition     string            `json:"condition,omitempty"`
	EntryEvents   []rules.Kind      `json:"entry_events"`
	PayloadFields []string          `json:"payload_fields,omitempty"`
	Enabled       *bool             `json:"enabled,omitempty"`
	URL           string            `json:"url"`
	AuthType      string            `json:"auth_type,omitempty"`
	Username      string            `json:"username,omitempty"`
	Password      string            `json:"password,omitempty"` // enc:v1:...
	Headers       map[string]string `json:"headers,omitempty"`
	SecretHeaders []string          `json:"secret_headers,omitempty"`
	EnumFormat    rules.EnumFormat  `json:"enum_format,omitempty"`
}

func (e *Engine) encodeWebhook(w *rules.Webhook) ([]byte, error) {
	password := w.Callback.Authentication.Password
	if password != "" && !password.IsEncrypted() {
		enc, err := e.key.Encrypt(password.Reveal())
		if err != nil {
			return nil, err
		}
		password = rules.Secret(enc)
	}
	return json.Marshal(storedWebhook{
		Description: w.Description, FormName: w.FormName, Condition: w.Condition, EntryEvents: w.EntryEvents,
		PayloadFields: w.PayloadFields, Enabled: w.Enabled, URL: w.Callback.URL,
		AuthType: w.Callback.Authentication.Type, Username: w.Callback.Authentication.Username,
		Password: password.Reveal(), Headers: w.Callback.Headers, SecretHeaders: w.Callback.SecretHeaders, EnumFormat: w.EnumFormat,
	})
}

func decodeWebhook(sw store.Webhook) (*rules.Webhook, error) {
	var d storedWebhook
	if err := json.Unmarshal(sw.Document, &d); err != nil {
		return nil, fmt.Errorf("webhook %s: unreadable document: %w", sw.ID, err)
	}
	return &rules.Webhook{
		WebhookID: sw.ID, Description: d.Description, FormName: d.FormName, Condition: d.Condition,
		EntryEvents: d.EntryEvents, PayloadFields: d.PayloadFields, Enabled: d.Enabled, EnumFormat: d.EnumFormat,
		Callback: rules.WebhookCallback{
			URL:            d.URL,
			Authentication: rules.WebhookAuthentication{Type: d.AuthType, Username: d.Username, Password: rules.Secret(d.Password)},
			Headers:        d.Headers,
			SecretHeaders:  d.SecretHeaders,
		},
	}, nil
}

// withStoredWebhooks adds the registered webhooks to base. A stored webhook the
// configuration can no longer run (its form was removed, say) is left out with a
// warning instead of failing the whole configuration.
func withStoredWebhooks(base *rules.Config, stored []*rules.Webhook, log *slog.Logger) (*rules.Config, error) {
	if len(stored) == 0 {
		return base, nil
	}
	valid := make([]*rules.Webhook, 0, len(stored))
	for _, w := range stored {
		if webhookOrphaned(base, w) {
			continue // logged by logOrphans
		}
		if _, err := base.CompileWebhook(w); err != nil {
			log.Error("engine: registered webhook is refused by the configuration; it will not fire", "webhook", w.WebhookID, "error", err)
			continue
		}
		valid = append(valid, w)
	}
	cfg, err := base.WithWebhooks(valid)
	if err != nil {
		return nil, fmt.Errorf("engine: registered webhooks: %w", err)
	}
	return cfg, nil
}

// RefreshWebhooks reads the registered webhooks from the store, if they changed
// since the last read, and makes them fire from the next event on. Every node of a
// shared PostgreSQL store calls it periodically.
func (e *Engine) RefreshWebhooks(ctx context.Context) error {
	if e.store == nil {
		return nil
	}
	e.stateMu.Lock()
	defer e.stateMu.Unlock()
	rev, err := e.store.Revision(ctx)
	if err != nil {
		return fmt.Errorf("engine: webhooks: %w", err)
	}
	old := e.cfg.Load()
	if old.stored != nil && rev == old.revision {
		return nil
	}
	list, err := e.store.ListWebhooks(ctx)
	if err != nil {
		return fmt.Errorf("engine: webhooks: %w", err)
	}
	if err := e.loadOverrides(ctx); err != nil {
		return err
	}
	stored := make([]*rules.Webhook, 0, len(list))
	for _, sw := range list {
		w, err := decodeWebhook(sw)
		if err != nil {
			e.log.Error("engine: skipping registered webhook", "error", err)
			continue
		}
		stored = append(stored, w)
	}
	fns, err := e.storedCallbackFunctions(ctx)
	if err != nil {
		return err
	}
	state, err := e.newState(old.base, stored, fns, rev)
	if err != nil {
		return err
	}
	e.cfg.Store(state)
	return nil
}

// startWatch polls the store's registry revision so that webhooks registered on
// another node take effect here too.
func (e *Engine) startWatch() {
	e.stopWatch = runEvery(watchInterval, watchInterval, func(ctx context.Context) {
		if err := e.RefreshWebhooks(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("engine: refresh webhooks", "error", err)
		}
	})
}

// validateWebhook checks w as the API would register it.
// A form_name the configuration lists in a form's renamed_from is changed to the
// form's name.
func (e *Engine) validateWebhook(w *rules.Webhook) error {
	*w = *followFormRename(e.cfg.Load().base, w)
	if _, err := e.Config().CompileWebhook(w); err != nil {
		return &InvalidError{Msg: err.Error()}
	}
	return nil
}

// configWebhook returns the webhook of the configuration file with the given ID.
func (e *Engine) configWebhook(id string) (*rules.Webhook, bool) {
	for _, w := range e.cfg.Load().base.Webhooks {
		if w.WebhookID == id {
			return w, true
		}
	}
	return nil, false
}

// duplicateOfConfig reports a configuration webhook with w's form, events and URL.
func (e *Engine) duplicateOfConfig(w *rules.Webhook) (string, bool) {
	key := webhookIndexKey(w)
	for _, c := range e.cfg.Load().base.Webhooks {
		if webhookIndexKey(c) == key {
			return c.WebhookID, true
		}
	}
	return "", false
}

func webhookIndexKey(w *rules.Webhook) string {
	ev := make([]string, len(w.EntryEvents))
	for i, k := range w.EntryEvents {
		ev[i] = string(k)
	}
	return w.FormName + "\x00" + store.NormalizeEvents(ev) + "\x00" + w.Callback.URL
}

func (e *Engine) toStore(w *rules.Webhook) (store.Webhook, error) {
	doc, err := e.encodeWebhook(w)
	if err != nil {
		return store.Webhook{}, err
	}
	ev := make([]string, len(w.EntryEvents))
	for i, k := range w.EntryEvents {
		ev[i] = string(k)
	}
	return store.Webhook{ID: w.WebhookID, Form: w.FormName, Events: store.NormalizeEvents(ev), URL: w.Callback.URL, Document: doc}, nil
}

// mapStoreErr says what a duplicate means for a webhook; other store errors pass
// through (store.ErrNotFound stays testable with errors.Is).
func mapStoreErr(err error) error {
	if errors.Is(err, store.ErrDuplicate) {
		return fmt.Errorf("%w: a webhook with the same form, events and callback URL exists", store.ErrDuplicate)
	}
	return err
}

// CreateWebhook registers w (its WebhookID is assigned) after checking it against the
// configuration, stores it with its password encrypted, and makes it fire from the
// next event on. It returns the webhook as registered.
func (e *Engine) CreateWebhook(ctx context.Context, w *rules.Webhook) (*rules.Webhook, error) {
	if e.store == nil {
		return nil, ErrNoStore
	}
	nw := *w
	nw.WebhookID = "WBH_new" // CompileWebhook does not check IDs; the store allocates one
	if err := e.validateWebhook(&nw); err != nil {
		return nil, err
	}
	if id, dup := e.duplicateOfConfig(&nw); dup {
		return nil, fmt.Errorf("%w: webhook %s has the same form, events and callback URL", store.ErrDuplicate, id)
	}
	nw.WebhookID = ""
	sw, err := e.toStore(&nw)
	if err != nil {
		return nil, err
	}
	sw, err = e.store.CreateWebhook(ctx, sw, e.now())
	if err != nil {
		return nil, mapStoreErr(err)
	}
	if err := e.RefreshWebhooks(ctx); err != nil {
		return nil, err
	}
	return decodeWebhook(sw)
}

// UpdateWebhook replaces the registered webhook w.WebhookID with w. A password of
// "********" (as GET shows it) keeps the stored password.
func (e *Engine) UpdateWebhook(ctx context.Context, w *rules.Webhook) error {
	if e.store == nil {
		return ErrNoStore
	}
	if _, ok := e.configWebhook(w.WebhookID); ok {
		return fmt.Errorf("webhook %s: %w", w.WebhookID, ErrReadOnly)
	}
	old, err := e.store.GetWebhook(ctx, w.WebhookID)
	if err != nil {
		return mapStoreErr(err)
	}
	nw := *w
	if nw.Callback.Authentication.Password == rules.Masked {
		prev, err := decodeWebhook(old)
		if err != nil {
			return err
		}
		nw.Callback.Authentication.Password = prev.Callback.Authentication.Password
	}
	if err := e.validateWebhook(&nw); err != nil {
		return err
	}
	if id, dup := e.duplicateOfConfig(&nw); dup {
		return fmt.Errorf("%w: webhook %s has the same form, events and callback URL", store.ErrDuplicate, id)
	}
	sw, err := e.toStore(&nw)
	if err != nil {
		return err
	}
	if _, err := e.store.UpdateWebhook(ctx, sw, e.now()); err != nil {
		return mapStoreErr(err)
	}
	return e.RefreshWebhooks(ctx)
}

// DeleteWebhook removes the registered webhook id. Its deliveries already in the
// outbox are not removed.
func (e *Engine) DeleteWebhook(ctx context.Context, id string) error {
	if e.store == nil {
		return ErrNoStore
	}
	if _, ok := e.configWebhook(id); ok {
		return fmt.Errorf("webhook %s: %w", id, ErrReadOnly)
	}
	if err := e.store.DeleteWebhook(ctx, id); err != nil {
		return mapStoreErr(err)
	}
	return e.RefreshWebhooks(ctx)
}

// Webhook returns the webhook id, from the configuration file or the registry.
func (e *Engine) Webhook(ctx context.Context, id string) (*rules.Webhook, error) {
	if w, ok := e.configWebhook(id); ok {
		return w, nil
	}
	if e.store == nil || !strings.HasPrefix(id, "WBH") {
		return nil, fmt.Errorf("webhook %s: %w", id, store.ErrNotFound)
	}
	sw, err := e.store.GetWebhook(ctx, id)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	w, err := decodeWebhook(sw)
	if err != nil {
		return nil, err
	}
	return followFormRename(e.cfg.Load().base, w), nil
}

// Webhooks returns every webhook: those of the configuration file, then the
// registered ones in ID order.
func (e *Engine) Webhooks(ctx context.Context) ([]*rules.Webhook, error) {
	out := append([]*rules.Webhook(nil), e.cfg.Load().base.Webhooks...)
	if e.store == nil {
		return out, nil
	}
	list, err := e.store.ListWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	for _, sw := range list {
		w, err := decodeWebhook(sw)
		if err != nil {
			return nil, err
		}
		out = append(out, followFormRename(e.cfg.Load().base, w))
	}
	return out, nil
}

// highestWebhookNumber is the largest NNN of the WBH000000000NNN IDs of cfg's
// webhooks, so that IDs the API allocates come after them.
func highestWebhookNumber(cfg *rules.Config) int64 {
	var n int64
	for _, w := range cfg.Webhooks {
		digits, ok := strings.CutPrefix(w.WebhookID, "WBH")
		if !ok {
			continue
		}
		if v, err := strconv.ParseInt(digits, 10, 64); err == nil && v > n {
			n = v
		}
	}
	return n
}
