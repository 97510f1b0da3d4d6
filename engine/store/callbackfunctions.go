package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// CallbackFunction is a ServiceDesk Plus–style callback function created through
// the HTTP API. The store keeps the engine's JSON document as opaque bytes; its
// publication state and token are a CallbackToken under the same API name.
type CallbackFunction struct {
	APIName   string
	Document  []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

const callbackFunctionColumns = "api_name, document, created_at, updated_at"

func scanCallbackFunction(r rows) (CallbackFunction, error) {
	var f CallbackFunction
	err := r.Scan(&f.APIName, &f.Document, &f.CreatedAt, &f.UpdatedAt)
	return f, err
}

func checkCallbackFunction(f CallbackFunction) error {
	if f.APIName == "" {
		return errors.New("store: callback function: empty API name")
	}
	return nil
}

// CreateCallbackFunction stores f and, when token is not nil, its publication state
// in the same transaction (so a function is never published without its
// definition), and returns f as stored. ErrDuplicate if f.APIName is taken. Any
// token state left under the name is replaced: a new function starts afresh.
func (s *Store) CreateCallbackFunction(ctx context.Context, f CallbackFunction, token *CallbackToken, now time.Time) (CallbackFunction, error) {
	if err := checkCallbackFunction(f); err != nil {
		return CallbackFunction{}, err
	}
	if s.committer.isClosed() {
		return CallbackFunction{}, ErrClosed
	}
	now = utc(now)
	f.CreatedAt, f.UpdatedAt = now, now
	if f.Document == nil {
		f.Document = []byte{}
	}
	err := writeTx(ctx, s.db, func(t tx) error {
		var other string
		ok, err := queryRow(ctx, t, "SELECT api_name FROM callback_functions WHERE api_name = ?", []any{f.APIName}, &other)
		if err != nil {
			return err
		}
		if ok {
			return fmt.Errorf("store: callback function %s: %w", f.APIName, ErrDuplicate)
		}
		if _, err := t.exec(ctx, "INSERT INTO callback_functions ("+callbackFunctionColumns+") VALUES (?, ?, ?, ?)",
			f.APIName, f.Document, f.CreatedAt, f.UpdatedAt); err != nil {
			return err
		}
		if _, err := t.exec(ctx, "DELETE FROM callback_tokens WHERE api_name = ?", f.APIName); err != nil {
			return err
		}
		if token != nil {
			if err := insertCallbackToken(ctx, t, f.APIName, *token, now); err != nil {
				return err
			}
		}
		return bumpRevision(ctx, t)
	})
	if err != nil {
		return CallbackFunction{}, s.registryErr("create callback function", err)
	}
	return f, nil
}

func insertCallbackToken(ctx context.Context, t tx, apiName string, ct CallbackToken, now time.Time) error {
	_, err := t.exec(ctx, `INSERT INTO callback_tokens (api_name, published, token_hash, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (api_name) DO UPDATE SET published = excluded.published, token_hash = excluded.token_hash, updated_at = excluded.updated_at`,
		apiName, ct.Published, ct.TokenHash[:], utc(now))
	return err
}

// GetCallbackFunction returns the stored callback function apiName, or ErrNotFound.
func (s *Store) GetCallbackFunction(ctx context.Context, apiName string) (CallbackFunction, error) {
	return registryOne(ctx, s, "get callback function", "callback function "+apiName, scanCallbackFunction,
		"SELECT "+callbackFunctionColumns+" FROM callback_functions WHERE api_name = ?", apiName)
}

// ListCallbackFunctions returns every stored callback function, by API name.
func (s *Store) ListCallbackFunctions(ctx context.Context) ([]CallbackFunction, error) {
	return registryAll(ctx, s, "list callback functions", scanCallbackFunction,
		"SELECT "+callbackFunctionColumns+" FROM callback_functions ORDER BY api_name")
}

// UpdateCallbackFunction replaces the document of the stored function f.APIName and
// returns it as stored; its publication state is left alone. ErrNotFound if there
// is none.
func (s *Store) UpdateCallbackFunction(ctx context.Context, f CallbackFunction, now time.Time) (CallbackFunction, error) {
	if err := checkCallbackFunction(f); err != nil {
		return CallbackFunction{}, err
	}
	if s.committer.isClosed() {
		return CallbackFunction{}, ErrClosed
	}
	f.UpdatedAt = utc(now)
	if f.Document == nil {
		f.Document = []byte{}
	}
	err := writeTx(ctx, s.db, func(t tx) error {
		ok, err := queryRow(ctx, t, "SELECT created_at FROM callback_functions WHERE api_name = ?", []any{f.APIName}, &f.CreatedAt)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("store: callback function %s: %w", f.APIName, ErrNotFound)
		}
		if _, err := t.exec(ctx, "UPDATE callback_functions SET document = ?, updated_at = ? WHERE api_name = ?", f.Document, f.UpdatedAt, f.APIName); err != nil {
			return err
		}
		return bumpRevision(ctx, t)
	})
	if err != nil {
		return CallbackFunction{}, s.registryErr("update callback function", err)
	}
	return f, nil
}

// DeleteCallbackFunction removes the stored function apiName and its token state in
// one transaction (its URL stops answering at once), or returns ErrNotFound.
func (s *Store) DeleteCallbackFunction(ctx context.Context, apiName string) error {
	if s.committer.isClosed() {
		return ErrClosed
	}
	err := writeTx(ctx, s.db, func(t tx) error {
		n, err := t.exec(ctx, "DELETE FROM callback_functions WHERE api_name = ?", apiName)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("store: callback function %s: %w", apiName, ErrNotFound)
		}
		if _, err := t.exec(ctx, "DELETE FROM callback_tokens WHERE api_name = ?", apiName); err != nil {
			return err
		}
		return bumpRevision(ctx, t)
	})
	if err != nil {
		return s.registryErr("delete callback function", err)
	}
	return nil
}

// PutCallbackTokens creates or replaces the token states of cts in one transaction:
// all are stored or none (bulk publish and unpublish).
func (s *Store) PutCallbackTokens(ctx context.Context, cts []CallbackToken, now time.Time) error {
	for _, ct := range cts {
		if ct.APIName == "" {
			return errors.New("store: callback token: empty API name")
		}
	}
	if s.committer.isClosed() {
		return ErrClosed
	}
	err := writeTx(ctx, s.db, func(t tx) error {
		for _, ct := range cts {
			if err := insertCallbackToken(ctx, t, ct.APIName, ct, now); err != nil {
				return err
			}
		}
		return bumpRevision(ctx, t)
	})
	if err != nil {
		return s.registryErr("put callback tokens", err)
	}
	return nil
}
