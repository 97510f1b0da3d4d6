package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
)

// TimerJSON is a timer of a time-based rule as GET /v1/timers and `ruleflow timers
// list --format json` show it.
type TimerJSON struct {
	Rule        string     `json:"rule"`
	Form        string     `json:"form"`
	EntryID     string     `json:"entry_id"`
	State       string     `json:"state"`
	DueAt       time.Time  `json:"due_at"`
	Anchor      time.Time  `json:"anchor"`
	Offset      string     `json:"offset"`
	Repetition  int        `json:"repetition"`
	Repetitions int        `json:"repetitions"`
	Every       string     `json:"every,omitempty"`
	Fired       int        `json:"fired"`
	ArmedBy     string     `json:"armed_by,omitempty"`
	ArmedAt     time.Time  `json:"armed_at"`
	LastFiredAt *time.Time `json:"last_fired_at,omitempty"`
	LeaseOwner  string     `json:"lease_owner,omitempty"`
}

// TimerOf converts a stored timer for display.
func TimerOf(t store.Timer) TimerJSON {
	out := TimerJSON{
		Rule: t.Rule, Form: t.Form, EntryID: t.EntryID, State: string(t.State), DueAt: t.DueAt, Anchor: t.Anchor,
		Offset: t.Offset.String(), Repetition: t.Repetition, Repetitions: t.Repetitions, Fired: t.Fired,
		ArmedBy: t.ArmedBy, ArmedAt: t.ArmedAt, LastFiredAt: timePtr(t.LastFiredAt), LeaseOwner: t.LeaseOwner,
	}
	if t.Every > 0 {
		out.Every = t.Every.String()
	}
	return out
}

// timerList answers GET /v1/timers.
type timerList struct {
	Timers []TimerJSON `json:"timers"`
	// Next is the offset of the next page (pass it as offset=), 0 on the last page.
	Next int `json:"next,omitempty"`
}

// ParseTimerFilter reads the query of GET /v1/timers: form, entry_id, rule, state
// (armed, the default; done; or all), limit (1 to 1000, default 100) and offset.
func ParseTimerFilter(q map[string][]string) (store.TimerFilter, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[len(v)-1]
		}
		return ""
	}
	f := store.TimerFilter{Form: get("form"), EntryID: get("entry_id"), Rule: get("rule"), Limit: 100}
	for k := range q {
		switch k {
		case "form", "entry_id", "rule", "state", "limit", "offset":
		default:
			return store.TimerFilter{}, fmt.Errorf("unknown query parameter %q (want form, entry_id, rule, state, limit or offset)", k)
		}
	}
	switch s := get("state"); s {
	case "", "armed":
	case "all":
		f.All = true
	case "done":
		f.State = store.TimerDone
	default:
		return store.TimerFilter{}, fmt.Errorf("state %q: want armed, done or all", s)
	}
	if s := get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return store.TimerFilter{}, fmt.Errorf("limit %q: want an integer from 1 to 1000", s)
		}
		f.Limit = n
	}
	if s := get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return store.TimerFilter{}, fmt.Errorf("offset %q: want a non-negative integer", s)
		}
		f.Offset = n
	}
	return f, nil
}

func (h *Handler) listTimers(w http.ResponseWriter, r *http.Request) {
	st := h.requireStore(w, "the engine runs without a store")
	if st == nil {
		return
	}
	f, err := ParseTimerFilter(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ts, err := st.ListTimers(r.Context(), f)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	out := timerList{Timers: make([]TimerJSON, 0, len(ts))}
	for _, t := range ts {
		out.Timers = append(out.Timers, TimerOf(t))
	}
	if len(ts) == f.Limit {
		out.Next = f.Offset + len(ts)
	}
	writeJSON(w, http.StatusOK, out)
}
