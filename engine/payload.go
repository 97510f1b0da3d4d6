package engine

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ruleflow/ruleflow/callouts"
	"github.com/ruleflow/ruleflow/rules"
)

// How a callout delivery is stored. Since format version 1 the Payload of a callout
// job is a compact binary record, not JSON: its first byte is the format version
// (payloadV1), which no JSON document starts with, so rows written before (JSON,
// starting with '{') are still read. After the version byte come, in this order:
//
//	flags             1 byte: 1 = a request is present, 2 = exponential backoff
//	method, url       strings
//	headers           count, then name and value strings, names sorted
//	body              bytes
//	secret headers    count, then strings
//	render error, ticket number, origin   strings
//	policy            interval and max interval (ns), max retries: varints
//	notify            bytes: the callout's notify block as JSON, empty for none
//	recipients        count, then strings
//	traceparent       string: the W3C traceparent of the event's span (telemetry)
//
// A count is a uvarint; a string or bytes is a uvarint length and the bytes. The
// body is kept as it was rendered: no base64, no escaping.
const payloadV1 byte = 1

// The flag bits of a version 1 payload.
const (
	payloadHasRequest  = 1 << 0
	payloadExponential = 1 << 1
)

// EncodeDeliveryPayload returns the stored form of p: the binary record described
// above.
func EncodeDeliveryPayload(p *DeliveryPayload) ([]byte, error) {
	var notify []byte
	if p.Notify != nil {
		var err error
		if notify, err = json.Marshal(p.Notify); err != nil {
			return nil, err
		}
	}
	size := 32 + len(p.RenderError) + len(p.TicketNumber) + len(p.Origin) + len(notify) + len(p.TraceParent)
	var flags byte
	if r := p.Request; r != nil {
		flags |= payloadHasRequest
		size += len(r.Method) + len(r.URL) + len(r.Body) + 4*len(r.Header) + 2*len(r.SecretHeaders)
		for k, v := range r.Header {
			size += len(k) + len(v)
		}
		for _, h := range r.SecretHeaders {
			size += len(h)
		}
	}
	if p.Policy.Exponential {
		flags |= payloadExponential
	}
	for _, to := range p.Recipients {
		size += len(to) + 2
	}
	b := make([]byte, 0, size)
	b = append(b, payloadV1, flags)
	if r := p.Request; r != nil {
		b = appendString(b, r.Method)
		b = appendString(b, r.URL)
		b = binary.AppendUvarint(b, uint64(len(r.Header)))
		if len(r.Header) == 1 {
			for k, v := range r.Header {
				b = appendString(appendString(b, k), v)
			}
		} else if len(r.Header) > 1 {
			names := make([]string, 0, len(r.Header))
			for k := range r.Header {
				names = append(names, k)
			}
			slices.Sort(names)
			for _, k := range names {
				b = appendString(appendString(b, k), r.Header[k])
			}
		}
		b = appendBytes(b, r.Body)
		b = appendStrings(b, r.SecretHeaders)
	}
	b = appendString(b, p.RenderError)
	b = appendString(b, p.TicketNumber)
	b = appendString(b, p.Origin)
	b = binary.AppendVarint(b, int64(p.Policy.Interval))
	b = binary.AppendVarint(b, int64(p.Policy.MaxInterval))
	b = binary.AppendVarint(b, int64(p.Policy.Max))
	b = appendBytes(b, notify)
	b = appendStrings(b, p.Recipients)
	b = appendString(b, p.TraceParent)
	return b, nil
}

// DecodeDeliveryPayload reads a stored callout delivery: the binary record of
// EncodeDeliveryPayload, or the JSON that rows written before it hold.
func DecodeDeliveryPayload(data []byte) (*DeliveryPayload, error) {
	var p DeliveryPayload
	if len(data) > 0 && data[0] != payloadV1 {
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, err
		}
		return &p, nil
	}
	d := binReader{b: data}
	if d.byte() != payloadV1 {
		return nil, errors.New("delivery payload: empty")
	}
	flags := d.byte()
	if flags&payloadHasRequest != 0 {
		r := &callouts.Request{Method: d.string(), URL: d.string()}
		if n := d.count(2); n > 0 { // a header is two strings
			r.Header = make(map[string]string, n)
			for range n {
				k := d.string()
				r.Header[k] = d.string()
			}
		}
		if body := d.bytes(); len(body) > 0 {
			r.Body = body
		}
		r.SecretHeaders = d.strings()
		p.Request = r
	}
	p.RenderError = d.string()
	p.TicketNumber = d.string()
	p.Origin = d.string()
	p.Policy.Exponential = flags&payloadExponential != 0
	p.Policy.Interval = time.Duration(d.varint())
	p.Policy.MaxInterval = time.Duration(d.varint())
	p.Policy.Max = int(d.varint())
	if notify := d.bytes(); len(notify) > 0 && d.err == nil {
		p.Notify = new(rules.Notify)
		if err := json.Unmarshal(notify, p.Notify); err != nil {
			return nil, fmt.Errorf("delivery payload: notify: %w", err)
		}
	}
	p.Recipients = d.strings()
	p.TraceParent = d.string()
	switch {
	case d.err != nil:
		return nil, fmt.Errorf("delivery payload: %w", d.err)
	case len(d.b) > 0:
		return nil, fmt.Errorf("delivery payload: %d bytes after the record", len(d.b))
	}
	return &p, nil
}
