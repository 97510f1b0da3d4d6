package rules

import (
	"time"

	"github.com/ruleflow/ruleflow/qualification"
)

// Kind is what happened to a record: the event type a rule listens for.
type Kind string

// The event kinds. Create, update and delete come from a host's save hook; callback
// and external come from the inbound HTTP endpoints.
const (
	KindCreate   Kind = "create"
	KindUpdate   Kind = "update"
	KindDelete   Kind = "delete"
	KindCallback Kind = "callback"
	KindExternal Kind = "external"
)

// Kinds lists every event kind in a stable order.
var Kinds = []Kind{KindCreate, KindUpdate, KindDelete, KindCallback, KindExternal}

// Valid reports whether k is one of the defined kinds.
func (k Kind) Valid() bool {
	switch k {
	case KindCreate, KindUpdate, KindDelete, KindCallback, KindExternal:
		return true
	}
	return false
}

// Record holds the values of one record, keyed by field name. A value is one of:
// nil (NULL), string (character and selection option name), int64 (integer; time of
// day in seconds), float64 (real, decimal), bool, time.Time (datetime and date),
// *qualification.CurrencyValue, qualification.DiaryValue, or *Attachment. A missing
// key is NULL.
type Record map[string]any

// Attachment is the value of an attachment field.
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Data        []byte `json:"data_base64"` // encoding/json writes []byte as base64
}

// Event is one change to a record (or one inbound call) that rules are matched against.
//
// Before holds the database values (empty on create); After the values after the
// transaction (empty on delete). Set names the fields set in the transaction; when it
// is nil it is derived as the fields whose value differs between Before and After.
type Event struct {
	Kind    Kind      `json:"event"`
	Form    string    `json:"form"`
	EntryID string    `json:"entry_id"`
	User    string    `json:"user,omitempty"`
	Groups  []string  `json:"groups,omitempty"`
	Time    time.Time `json:"time"`
	Before  Record    `json:"before,omitempty"`
	After   Record    `json:"after,omitempty"`
	Set     []string  `json:"set,omitempty"`

	// StatusHistory is the record's status history, keyed by the option name of its
	// 'Status' field, in the shape of AR's Status-History field
	// ({"Resolved": {"user": ..., "timestamp": ...}}).
	StatusHistory map[string]qualification.StatusEntry `json:"status_history,omitempty"`
}

// Current returns the record a plain field reference reads: the values after the
// transaction, or the values before it on delete.
func (e *Event) Current() Record {
	if e.Kind == KindDelete {
		return e.Before
	}
	return e.After
}
