package notify_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/ruleflow/ruleflow/notify"
	"github.com/ruleflow/ruleflow/rules"
)

func ExampleShouldNotify() {
	n := &rules.Notify{To: []string{"ops@example.com"}, FailuresOnly: true}
	fmt.Println("delivered:", notify.ShouldNotify(n, true))
	fmt.Println("failed:", notify.ShouldNotify(n, false))
	// Output:
	// delivered: false
	// failed: true
}

func ExampleTemplates_Render() {
	tmpl, err := notify.NewTemplates(&rules.Notify{
		To:   []string{"ops@example.com"},
		Body: "{{.Callout}}: {{.Outcome}} after {{.Attempts}} attempts, last {{.LastStatus}} at {{datetime .LastAttempt}}",
	}, "")
	if err != nil {
		log.Fatal(err)
	}
	loc := time.FixedZone("EST", -5*3600)
	msg, err := tmpl.Render(notify.Outcome{
		Callout: "VSA close alert", Rule: "Close RMM alert", Form: "Ticket", EntryID: "8176",
		TicketNumber: "T20211120.0001", Attempts: 11, LastStatusCode: 503,
		LastAttempt: time.Date(2021, 11, 20, 15, 53, 34, 0, time.UTC),
		URL:         "https://svc:secret@rmm.example.com/ws", DeliveryID: "d-1",
	}, loc)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(msg.To)
	fmt.Println(msg.Subject)
	fmt.Print(msg.Text)
	// Output:
	// [ops@example.com]
	// [ruleflow] Callout "VSA close alert" failed for ticket T20211120.0001
	// VSA close alert: failed after 11 attempts, last 503 Service Unavailable at 2021-11-20 10:53:34 EST (-05:00)
}

func ExampleMailer_Send() {
	m := notify.NewMailer(&rules.SMTP{Host: "127.0.0.1", Port: 2525, TLS: notify.TLSNone, From: "ruleflow@example.com"}, "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := m.Send(ctx, notify.Message{To: []string{"ops@example.com"}, Subject: "test", Text: "hello\n"})
	switch {
	case err == nil:
		// sent
	case notify.IsPermanent(err):
		// store the job as failed with err's text (the server's reply)
	default:
		// retry later with backoff
	}
}
