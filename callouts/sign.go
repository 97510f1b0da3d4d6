package callouts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks signature headers (standardwebhooks.com, spec v1).
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// SigningKey returns the HMAC key of a Standard Webhooks signing secret: a secret
// starting with "whsec_" is base64 (standard alphabet, padding optional) after the
// prefix; any other secret is used as raw bytes. Errors never contain the secret.
func SigningKey(secret string) ([]byte, error) {
	if secret == "" {
		return nil, errors.New("signing secret is empty")
	}
	rest, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return []byte(secret), nil
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(rest)
	}
	if err != nil || len(key) == 0 {
		return nil, errors.New("signing secret: the part after whsec_ is not valid base64")
	}
	return key, nil
}

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
