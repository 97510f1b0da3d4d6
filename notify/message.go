package notify

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/go-mail/mail/v2"
)

// Message is one notification e-mail. It is plain data: the engine stores it as an
// outbox job with encoding/json and hands it to Mailer.Send, possibly several times.
type Message struct {
	// From is the sender address; empty means the Mailer's configured from.
	From string `json:"from,omitempty"`
	// To are the recipients, as RFC 5322 addresses ("ops@example.com" or
	// "Ops <ops@example.com>").
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	// Text is the plain-text body; the engine also adds it to the ticket as a note.
	Text string `json:"text"`
	// HTML is the HTML alternative of Text; empty means a text-only e-mail.
	HTML string `json:"html,omitempty"`
	// MessageID is the Message-ID header with its angle brackets, stable across
	// retries; empty means Send makes one.
	MessageID string `json:"message_id,omitempty"`
}

// envelope is a message ready for the SMTP transaction.
type envelope struct {
	from string   // MAIL FROM
	to   []string // RCPT TO, without duplicates
	data []byte   // the RFC 5322 message
}

// compose checks msg and builds its envelope and MIME text with go-mail: headers
// From, To, Subject, Date (now), Message-ID, MIME-Version, and a text/plain body
// with a text/html alternative (multipart/alternative) when msg.HTML is set.
// from is used when msg.From is empty; idDomain for a missing Message-ID.
func compose(msg Message, from string, now time.Time, idDomain string) (envelope, error) {
	if msg.From != "" {
		from = msg.From
	}
	if strings.TrimSpace(from) == "" {
		return envelope{}, errors.New("no sender: set smtp.from")
	}
	sender, err := mail.ParseAddress(from)
	if err != nil {
		return envelope{}, fmt.Errorf("invalid sender %q: %v", from, err)
	}
	var rcpts []string
	var toHeader []string
	for _, entry := range msg.To {
		list, err := mail.ParseAddressList(entry)
		if err != nil {
			return envelope{}, fmt.Errorf("invalid recipient %q: %v", entry, err)
		}
		for _, a := range list {
			if !containsFold(rcpts, a.Address) {
				rcpts = append(rcpts, a.Address)
				toHeader = append(toHeader, formatAddress(a))
			}
		}
	}
	if len(rcpts) == 0 {
		return envelope{}, errors.New("no recipients")
	}
	id := msg.MessageID
	if id == "" {
		id = newMessageID("", idDomain)
	} else if !validMessageID(id) {
		return envelope{}, fmt.Errorf("invalid Message-ID %q", id)
	}

	m := gomail.NewMessage()
	m.SetHeader("From", formatAddress(sender))
	m.SetHeader("To", toHeader...)
	m.SetHeader("Subject", strings.Join(strings.Fields(msg.Subject), " "))
	m.SetHeader("Message-ID", id)
	m.SetDateHeader("Date", now)
	m.SetHeader("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies
	m.SetBody("text/plain", msg.Text)
	if msg.HTML != "" {
		m.AddAlternative("text/html", msg.HTML)
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		return envelope{}, err
	}
	return envelope{from: sender.Address, to: rcpts, data: buf.Bytes()}, nil
}

// formatAddress writes a as an RFC 5322 address, encoding a non-ASCII display name.
// A plain address is written bare so go-mail's header encoder leaves it alone.
func formatAddress(a *mail.Address) string {
	if a.Name == "" {
		return a.Address
	}
	return a.String()
}

// validMessageID reports whether id is "<left@right>" with no space, control
// character, angle bracket or second '@'.
func validMessageID(id string) bool {
	if len(id) < 5 || len(id) > 250 || id[0] != '<' || id[len(id)-1] != '>' {
		return false
	}
	inner := id[1 : len(id)-1]
	left, right, ok := strings.Cut(inner, "@")
	if !ok || left == "" || right == "" || strings.Contains(right, "@") {
		return false
	}
	for i := 0; i < len(inner); i++ {
		if c := inner[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
