// Package notify e-mails the resources of a callout when one of its deliveries ends,
// and renders the text the engine adds to the ticket as a note.
//
// The policy (design §6) is ShouldNotify: when a delivery ends — delivered, or failed
// after its last retry — one e-mail goes to the callout's notify.to recipients, unless
// the delivery succeeded and notify.failures_only is set. When no e-mail is sent, no
// note is added either.
//
// The lifecycle is in three steps, so that the engine can store the e-mail in its
// outbox and retry it:
//
//  1. At configuration load, NewTemplates parses the callout's notify block once
//     (recipients, and the subject, text and HTML templates, default or custom).
//  2. When a delivery ends, Templates.Render turns its Outcome into a Message. A
//     Message is plain data and round-trips through encoding/json; its Text is also
//     the ticket note.
//  3. Mailer.Send delivers a Message over SMTP. Errors are *Error values; IsPermanent
//     tells a 5xx reply (store the job as failed with the server's reply) from a
//     temporary failure — 4xx, refused connection, timeout — that is retried later.
//
// Messages are composed with github.com/go-mail/mail/v2 (MIME structure, header
// encoding, quoted-printable bodies) and sent with the client of
// github.com/emersion/go-smtp on a connection the Mailer dials itself
// (net.Dialer.DialContext): cancelling the context closes it, and every read and
// write is bounded by the deadline of its phase (connect, then send) and by the
// context's deadline. PLAIN and LOGIN come from github.com/emersion/go-sasl.
package notify
