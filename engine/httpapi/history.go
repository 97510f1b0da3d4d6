package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/engine/store"
)

// historyList answers GET /v1/history.
type historyList struct {
	History []engine.HistoryEntry `json:"history"`
	// Next is the cursor of the next (older) page: pass it as after=. Empty on the
	// last page.
	Next string `json:"next,omitempty"`
}

// ParseHistoryFilter reads the query of GET /v1/history: form, entry_id, after
// (the cursor of the next page: entries older than it) and limit (1 to 1000,
// default 100).
func ParseHistoryFilter(q map[string][]string) (store.HistoryFilter, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[len(v)-1]
		}
		return ""
	}
	for k := range q {
		switch k {
		case "form", "entry_id", "after", "limit":
		default:
			return store.HistoryFilter{}, fmt.Errorf("unknown query parameter %q (want form, entry_id, after or limit)", k)
		}
	}
	f := store.HistoryFilter{Form: get("form"), EntryID: get("entry_id"), Before: get("after"), Limit: 100}
	if f.Before != "" && !strings.HasPrefix(f.Before, store.HistoryIDPrefix) {
		return store.HistoryFilter{}, fmt.Errorf("after %q: want the next cursor of a previous page (%s…)", f.Before, store.HistoryIDPrefix)
	}
	if s := get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return store.HistoryFilter{}, fmt.Errorf("limit %q: want an integer from 1 to 1000", s)
		}
		f.Limit = n
	}
	return f, nil
}

// listHistory answers GET /v1/history: the event history, newest first.
func (h *Handler) listHistory(w http.ResponseWriter, r *http.Request) {
	if h.requireStore(w, "the engine runs without a store, so it keeps no history") == nil {
		return
	}
	f, err := ParseHistoryFilter(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	entries, err := h.eng.History(r.Context(), f)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	out := historyList{History: entries}
	if out.History == nil {
		out.History = []engine.HistoryEntry{}
	}
	if len(entries) == f.Limit {
		out.Next = entries[len(entries)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}
