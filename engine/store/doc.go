// Package store is ruleflow's durable outbox: the jobs (callout deliveries and e-mail
// notifications) that the engine has accepted but not yet finished, every delivery
// attempt, and the registrations made at run time through the HTTP API (AR webhooks,
// external-event targets and callback-function tokens).
//
// Two backends share one implementation and one behaviour:
//
//   - SQLite (modernc.org/sqlite, pure Go), the default: a single file in WAL mode.
//     DSN "sqlite:PATH", "sqlite:///abs/path" or "file:PATH".
//   - PostgreSQL (pgx/v5 pgxpool), for several nodes sharing one outbox.
//     DSN "postgres://..." or "postgresql://...".
//
// # Lifecycle
//
// [Open] parses the DSN, connects, and applies the embedded, versioned migrations
// (idempotent; concurrent Opens against one PostgreSQL database serialise on an
// advisory lock). The returned [*Store] is safe for concurrent use by any number of
// goroutines. [Store.Close] waits for queued writes to commit, then closes the
// connections; every method called after Close returns [ErrClosed].
//
// # Jobs
//
// A job moves through these states:
//
//	Enqueue ──▶ pending ──Claim──▶ pending+leased ──Complete──▶ delivered
//	               ▲                    ▲   │  └──────Fail──────▶ failed
//	               └───Reschedule───────┼───┘
//	EnqueueLeased ──────────────────────┘
//	Retry: delivered|failed ──▶ pending (next_at = now, attempt budget renewed)
//
// [Store.Enqueue] returns only after the jobs are committed. Concurrent Enqueue calls,
// and concurrent Complete, Reschedule, Fail and Settle calls, are group-committed: one
// committer goroutine per Store folds every write that arrived while the previous
// transaction was being committed into the next transaction, so a burst of N writes
// costs a few commits (and fsyncs), not N. Each caller still gets its own result.
//
// [Store.EnqueueLeased] inserts jobs already leased to the caller, which attempts
// them from memory (the engine's fast path): no claim has to find them, and if the
// caller dies the lease expires like any other.
//
// [Store.Claim] leases due jobs to an owner until a deadline. Only the owner can
// settle a job; if a lease expires, another owner may claim the job, and the first
// owner's Complete, Reschedule or Fail then fails with [ErrLeaseLost]. Delivery is
// therefore at least once: receivers deduplicate by the job ID, which callouts send as
// the Idempotency-Key header.
//
// The store never interprets payloads: a job's Payload, a webhook's Document and a
// target's IParams are opaque bytes owned by the caller. The store imports no other
// ruleflow package.
package store
