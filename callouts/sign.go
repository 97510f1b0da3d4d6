package callouts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"

	"github.com/ruleflow/ruleflow/rules"
)

// The Standard Webhooks signature headers (standardwebhooks.com, spec v1).
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// SigningKey returns the HMAC key of a Standard Webhooks signing secret; it is
// rules.SigningKey, which the loader uses to judge a signing_secret.
func SigningKey(secret string) ([]byte, error) { return rules.SigningKey(secret) }

// Sign returns the Standard Webhooks signature of a message, "v1,<base64 of
// HMAC-SHA256(key, msgID + "." + unix seconds + "." + body)>", the value of the
// webhook-signature header.
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	key, err := SigningKey(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msgID))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, ts.Unix(), 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}
