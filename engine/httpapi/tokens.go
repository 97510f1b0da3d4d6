package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/ruleflow/ruleflow/engine/store"
)

// NewToken returns a fresh secret token: 32 random bytes, base64url without padding
// (43 characters). Only its store.HashToken is kept.
func NewToken() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand panics rather than return an error)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// tokenMatches reports in constant time whether token hashes to want.
func tokenMatches(token string, want store.TokenHash) bool {
	got := store.HashToken(token)
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// Bootstrap gives the configuration's inbound endpoints their tokens: every
// callback function marked `published: true` that has no stored state is published
// with a fresh token, and every `target_urls` entry without an active stored target
// gets one. Each new URL and token is written to out once — the only time it is
// shown; only its hash is stored — and never logged. base prefixes the URLs
// (e.g. "http://127.0.0.1:8080"). Bootstrap is idempotent and is run at start and
// after every configuration reload; on a shared store the first node wins.
func (h *Handler) Bootstrap(ctx context.Context, out io.Writer, base string) error {
	st := h.eng.Records()
	if st == nil {
		return errors.New("httpapi: bootstrap: the engine has no store")
	}
	cfg := h.eng.Config()
	var errs []error
	for _, fn := range cfg.Callbacks {
		if !fn.Published {
			continue
		}
		_, err := st.GetCallbackToken(ctx, fn.APIName)
		if err == nil {
			continue
		}
		if !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, err)
			continue
		}
		token := NewToken()
		added, err := st.AddCallbackToken(ctx, store.CallbackToken{APIName: fn.APIName, Published: true, TokenHash: store.HashToken(token)}, h.now())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !added {
			continue // another node published it first; its token is the valid one
		}
		fmt.Fprintf(out, "ruleflow: callback function %q published: POST %s/callbacks/%s  X-Auth-Token: %s\n", fn.APIName, base, fn.APIName, token)
	}
	if len(cfg.Targets) > 0 {
		active := map[string]bool{}
		list, err := st.ListTargets(ctx)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		for _, tg := range list {
			if tg.RevokedAt.IsZero() {
				active[tg.Name] = true
			}
		}
		for _, t := range cfg.Targets {
			if active[t.Name] {
				continue
			}
			iparams, err := json.Marshal(t.Iparams)
			if err != nil {
				errs = append(errs, fmt.Errorf("target %q: iparams: %w", t.Name, err))
				continue
			}
			if t.Iparams == nil {
				iparams = []byte("{}")
			}
			token := NewToken()
			_, err = h.eng.CreateTarget(ctx, store.Target{Name: t.Name, TokenHash: store.HashToken(token), IParams: iparams}, publicBase(t, base)+"/hooks/"+token)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			fmt.Fprintf(out, "ruleflow: target %q created: POST %s/hooks/%s\n", t.Name, base, token)
		}
	}
	return errors.Join(errs...)
}
