// Package callouts turns a callout definition and an event into an HTTP request and
// delivers it. The engine is its only caller in production; `ruleflow eval` and the
// tests call Render directly.
//
// # Lifecycle of one callout
//
//	Render(cfg, callout, event) ──▶ *Request (bytes) ──▶ outbox ──▶ Sender.Send ──▶ Result | *SendError
//	                                                                     ▲                 │
//	                                                                     └──── Policy ─────┘
//
// Rendering ([Render]) happens when the event is handled: the request is built from
// the values as of the save and stored as bytes in the engine's outbox, so delivery
// never re-reads the ticket. The engine renders through [Encoders] ([Compile] at
// configuration load: SOAP and XML-RPC envelopes built once by their libraries into
// templates), which gives byte for byte what Render gives. A render error is data-dependent (an id value that is
// not an integer, say) and concerns that one callout only: the engine records it as
// a failed, unsent delivery and fires the others.
//
// Four wire formats exist (design §5): name-value, SOAP 1.1, XML-RPC and the AR
// System webhook JSON (multipart/form-data when attachments are sent). Empty and NULL
// values are written the same way in the three Autotask formats, as an empty value:
// "udf=" in name-value, an empty element <udf></udf> in SOAP, and an empty string
// member <string></string> in XML-RPC. The JSON format distinguishes them: NULL is
// null and an empty text is "".
//
// # Sending
//
// [Sender.Send] performs one attempt under the callout's timeout, with the
// credentials in force at the attempt (never stored in the request), and classifies
// the outcome like http.Client.Do: a [Result] on success, or an error that
// errors.As turns into a [*SendError] carrying the status, the reason and whether a
// retry can help. [Policy] (one typed policy, one set of defaults shared with the
// rules loader) decides when the next attempt runs.
//
// # Egress
//
// Every connection made by [NewGuardedClient] is vetted by package
// callouts/egress when it is dialled (after DNS, so a name cannot rebind to a
// forbidden address), with the policy of the configuration in force; redirects
// are not followed and no proxy is taken from the environment. A client passed in
// by the host bypasses the guard.
//
// Secrets (credentials, signing keys, masked headers) never appear in a Request's
// String, in logs, or in an error text.
package callouts
