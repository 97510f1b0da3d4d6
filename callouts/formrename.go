package callouts

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"
)

// jsonHead is how every AR webhook JSON payload begins (see renderer.json): its
// first keys are webhook_id, entry_event and form_name, in that order.
var jsonHead = [...]string{`{"webhook_id":`, `,"entry_event":`, `,"form_name":`}

// RenamedForm returns req with the form_name of its AR webhook JSON payload — the
// body of a json callout, or the "entry" part of its multipart body — changed from
// old to new, and reports whether it changed anything. A delivery rendered before
// its form was renamed (renamed_from) is sent under the form's new name this way.
// Other formats carry no form name; they, and a payload naming another form, come
// back unchanged. req is not modified.
func RenamedForm(req *Request, old, new string) (*Request, bool) {
	if req == nil || old == new {
		return req, false
	}
	ct := req.Header["Content-Type"]
	multipart := strings.HasPrefix(ct, "multipart/form-data")
	if !multipart && !strings.HasPrefix(ct, "application/json") {
		return req, false
	}
	body := req.Body
	at := bytes.Index(body, []byte(jsonHead[0]))
	if at < 0 || !multipart && at != 0 {
		return req, false
	}
	var start, end int
	for i, key := range jsonHead {
		if !bytes.HasPrefix(body[at:], []byte(key)) {
			return req, false
		}
		start = at + len(key)
		n := jsonStringLen(body[start:])
		if n < 0 {
			return req, false
		}
		end = start + n
		if i < len(jsonHead)-1 {
			at = end
		}
	}
	var name string
	if json.Unmarshal(body[start:end], &name) != nil || name != old {
		return req, false
	}
	enc := appendJSONString(nil, new)
	if _, boundary, ok := strings.Cut(ct, "boundary="); multipart && (!ok || bytes.Contains(enc, []byte(boundary))) {
		return req, false
	}
	out := *req
	out.Header = maps.Clone(req.Header)
	out.Body = make([]byte, 0, len(body)-(end-start)+len(enc))
	out.Body = append(append(append(out.Body, body[:start]...), enc...), body[end:]...)
	return &out, true
}

// jsonStringLen returns the length of the JSON string literal b starts with, quotes
// included, or -1 if b does not start with one.
func jsonStringLen(b []byte) int {
	if len(b) == 0 || b[0] != '"' {
		return -1
	}
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}
