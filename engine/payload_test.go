package engine

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/callouts"
	"github.com/ruleflow/ruleflow/rules"
)

// samplePayload is a delivery payload with every field set, including a body that
// is not valid UTF-8 and a NUL byte in a header value.
func samplePayload() *DeliveryPayload {
	return &DeliveryPayload{
		Request: &callouts.Request{
			Method: "POST", URL: "https://ticket.example.com/hook?x=1",
			Header:        map[string]string{"Content-Type": "text/xml; charset=utf-8", "SOAPAction": "urn:Close", "X-Token": "a\x00b"},
			Body:          []byte("<a>\xff\xfe é</a>"),
			SecretHeaders: []string{"X-Token"},
		},
		TicketNumber: "T20261120.0001",
		Policy:       callouts.Policy{Interval: 90 * time.Second, Max: 7, Exponential: true, MaxInterval: time.Hour},
		Notify:       &rules.Notify{To: []string{"ops@example.com", "resource:Tech"}, FailuresOnly: true, Subject: "{{.Callout}}"},
		Recipients:   []string{"ops@example.com", "tech@example.com"},
		Origin:       originAPI,
		TraceParent:  "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	}
}

func TestDeliveryPayloadRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    *DeliveryPayload
	}{
		{"full", samplePayload()},
		{"empty request", &DeliveryPayload{Request: &callouts.Request{Method: "GET", URL: "http://h/"}, Policy: callouts.PolicyFor(rules.Retry{})}},
		{"render error", &DeliveryPayload{RenderError: `rule "r": id "x" is not an integer`, Policy: callouts.Policy{Interval: time.Second}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := EncodeDeliveryPayload(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if b[0] != payloadV1 {
				t.Fatalf("first byte %#x, want the format version %#x", b[0], payloadV1)
			}
			got, err := DecodeDeliveryPayload(b)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, tc.p) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, tc.p)
			}
			// The JSON rows written before the binary format read the same.
			old, err := json.Marshal(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			got, err = DecodeDeliveryPayload(old)
			if err != nil {
				t.Fatalf("decode old JSON row: %v", err)
			}
			if !reflect.DeepEqual(got, tc.p) {
				t.Errorf("old JSON row:\n got %+v\nwant %+v", got, tc.p)
			}
		})
	}
}

// TestDeliveryPayloadSmaller pins the point of the binary form: the body is stored
// as it is, not base64 inside JSON.
func TestDeliveryPayloadSmaller(t *testing.T) {
	p := samplePayload()
	p.Request.Body = []byte(strings.Repeat("id=8176&number=T20261120.8176&status=Complete&", 8))
	b, _ := EncodeDeliveryPayload(p)
	old, _ := json.Marshal(p)
	if len(b) > len(old)*3/4 {
		t.Errorf("binary payload %d bytes, JSON %d: want at most 3/4", len(b), len(old))
	}
}

func TestDeliveryPayloadCorrupt(t *testing.T) {
	b, err := EncodeDeliveryPayload(samplePayload())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "delivery payload: empty"},
		{"version only", []byte{payloadV1}, "delivery payload: truncated"},
		{"truncated", b[:len(b)-3], "delivery payload: truncated"},
		{"trailing", append(append([]byte(nil), b...), 0), "delivery payload: 1 bytes after the record"},
		{"huge count", []byte{payloadV1, payloadHasRequest, 0xff, 0xff, 0xff, 0xff, 0x0f}, "delivery payload: truncated"},
		{"not json", []byte("{"), "unexpected end of JSON input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeDeliveryPayload(tc.data)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// FuzzDeliveryPayload: whatever the bytes, decoding does not panic, and a payload
// that decodes encodes back to a record that decodes to the same payload (compared
// by its encoding: JSON's empty lists and maps come back as nil).
func FuzzDeliveryPayload(f *testing.F) {
	b, _ := EncodeDeliveryPayload(samplePayload())
	f.Add(b)
	old, _ := json.Marshal(samplePayload())
	f.Add(old)
	f.Add([]byte{payloadV1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := DecodeDeliveryPayload(data)
		if err != nil {
			return
		}
		again, err := EncodeDeliveryPayload(p)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		q, err := DecodeDeliveryPayload(again)
		if err != nil {
			t.Fatalf("decode of the re-encoded record: %v", err)
		}
		third, err := EncodeDeliveryPayload(q)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(again, third) {
			t.Fatalf("re-encoded record decodes differently:\n got %+v\nwant %+v", q, p)
		}
	})
}
