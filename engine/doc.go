// Package engine is the running ruleflow system: the save-hook entry point Handle,
// the durable outbox (package engine/store), the dispatcher that delivers callouts
// with retries, and the notification e-mails and ticket notes that report on them.
//
// # Lifecycle
//
//	Open ──▶ Handle / HandleBatch (concurrently, from the host's save hook)
//	     ──▶ Reload (any time: swaps the configuration)
//	     ──▶ Shutdown(ctx) (once; Close is Shutdown with Options.ShutdownTimeout)
//
// [Open] loads the secrets key, compiles the configuration, opens the store and
// starts the dispatcher (unless [Options].NoDispatch is set); when any step fails
// nothing stays open. [Engine.Handle] and [Engine.HandleBatch] are safe for
// concurrent use. [Engine.Reload] makes a new configuration the one in force for
// every event handled from then on; events in flight finish on theirs.
// [Engine.Shutdown] works like http.Server's: Handle fails with [ErrClosed] at
// once, the dispatcher stops claiming, the deliveries in flight run until ctx is
// done, then those still running are cut off; each cut-off attempt is recorded
// ("attempt cut off by shutdown") and its job is due again, and the leases this
// node still holds are released, so another node (or the next start) takes them
// at once. Nothing accepted is lost by a shutdown, however short its deadline.
//
// # Who calls what
//
//   - The host's save hook (or engine/httpapi for POST /v1/events, callbacks and
//     target URLs, or `ruleflow replay`) calls Handle/HandleBatch with a
//     [rules.Event] made by rules' one record decoder.
//   - The host applies [Result].Set to the record before it commits, and refuses
//     the save when [Result].Rejected is set.
//   - The dispatcher (goroutines of this package) claims due jobs, sends them with
//     package callouts or notify, and records the outcome; nobody else does.
//   - engine/httpapi and the ruleflow command read and retry deliveries through
//     the store; hosts never write to it.
//
// # Handling an event
//
// Handle evaluates every rule of the event's form (package rules) and applies the
// rules' actions in configuration order: `set` assigns values (typed as the form
// says, listed in Result.Set), `reject` refuses the save with the rule's message
// (Result.Rejected; nothing is enqueued for a rejected event). A rule whose
// condition cannot be evaluated is reported in Result.RuleErrors and does not
// fire; the others do. Each callout fired is rendered now, from the values as of
// the save; a callout that cannot be rendered for this event (render-error
// isolation) becomes a failed, unsent delivery reported in Result.RenderErrors and
// notified per its policy, while the other callouts fire as usual.
//
// Guarantee: when Handle returns nil, every delivery it reports is committed to the
// store in one transaction (a batch is atomic: all its events or none); when it
// returns an error, nothing was enqueued. An enqueue retried after an ambiguous
// failure is idempotent.
//
// # Deliveries
//
// Each delivery (a callout, a notification e-mail, or a ticket note) is a job in
// the store and moves through this state machine (engine/store/doc.go has the
// store's view):
//
//	                 ┌──────── retryable failure, budget left: next_at = backoff ───────┐
//	                 ▼                                                                  │
//	Handle ──▶ pending ──claim (lease)──▶ attempt ──2xx──▶ delivered ──▶ notification (if every call is e-mailed)
//	                                         │
//	                                         └── permanent failure, or budget spent ──▶ failed ──▶ notification
//	retry (API or CLI): delivered | failed ──▶ pending
//
// Delivery is at least once: an attempt whose outcome could not be recorded (a
// killed node) is retried after its lease expires, so a receiver may see a
// request twice and can de-duplicate on its Idempotency-Key header (the delivery ID).
//
// # Leases
//
// A job is claimed under a lease owned by this node (Options.NodeID). Before an
// attempt starts its time limit is taken from the configuration in force; a lease
// too short to hold it is extended first, and the attempt runs under a deadline
// that ends before its lease, so no two attempts of one job overlap, whatever a
// reload changed (leases.go has the details). A node that dies loses its claims
// after the attempt's limit plus Options.Lease.
//
// # Egress
//
// Callouts go out through a client whose every connection is vetted by package
// callouts/egress with the egress block of the configuration in force; the
// callbacks of webhooks registered through the API get the API rules, decided by
// the origin recorded with the delivery as well as the callout's origin now.
// Options.HTTPClient replaces that client (and bypasses the guard).
package engine
