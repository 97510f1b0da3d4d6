package callouts

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ruleflow/ruleflow/rules"
)

// xmlText is what an XML parser reads back for s: invalid UTF-8 bytes and characters
// outside the XML 1.0 range are replaced by U+FFFD, one per byte or rune.
func xmlText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size == 1 || !xmlChar(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// jsonText is what a JSON parser reads back for s: each invalid UTF-8 byte becomes
// U+FFFD.
func jsonText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		b.WriteRune(r)
	}
	return b.String()
}

// paramText is what a Content-Disposition parser reads back for a file name.
func paramText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, jsonText(s))
}

// FuzzRender feeds arbitrary strings as field values, attachment names and entry
// IDs: rendering never panics, and every body parses with the independent decoder of
// its format and gives the values back.
func FuzzRender(f *testing.F) {
	f.Add("T20211120.0001", "MY_UDF_VALUE", "Router down", "sample.png", "8176")
	f.Add(`&<>"'`, "]]>", "\x00\x01\r\n\t", "a\"b\\c\r\nd.png", "-1")
	f.Add("Zürich ✓ 東京", "\xff\xfe", "\u2028\u2029", "résumé.pdf", "99999999999")
	f.Add("", " ", "   ", "", "")
	cfg := testConfig(f)
	f.Fuzz(func(t *testing.T, number, udf, desc, attName, entryID string) {
		ev := seedEvent(rules.KindCreate)
		ev.EntryID = entryID
		ev.After["TicketNumber"] = number
		ev.After["RMM Alert ID"] = udf
		ev.After["Description"] = desc
		ev.After["Attachment1"] = &rules.Attachment{Name: attName, ContentType: desc, Data: []byte(number)}

		// name-value: exact round trip, GET and POST.
		for _, m := range []string{"GET", "POST"} {
			req, err := Render(cfg, nameValueCallout(m), ev)
			if err != nil {
				t.Fatal(err)
			}
			raw := string(req.Body)
			if m == "GET" {
				_, raw, _ = strings.Cut(req.URL, "?token=abc&x=1&")
			}
			kvs, err := decodeNameValue(raw)
			if err != nil {
				t.Fatalf("%s: %v", m, err)
			}
			if len(kvs) != 7 || kvs[1].Value != number || kvs[6].Value != udf {
				t.Fatalf("%s round trip: %q", m, kvs)
			}
		}

		// SOAP, read back with encoding/xml.
		req, err := Render(cfg, soapCallout(), ev)
		if err != nil {
			t.Fatal(err)
		}
		_, kvs, err := decodeSOAP(req.Body)
		if err != nil {
			t.Fatalf("soap: %v\n%s", err, req.Body)
		}
		if len(kvs) != 7 || kvs[1].Value != xmlText(number) || kvs[6].Value != xmlText(udf) {
			t.Fatalf("soap round trip: %q", kvs)
		}

		// XML-RPC, read back with encoding/xml.
		req, err = Render(cfg, xmlrpcCallout(), ev)
		if err != nil {
			t.Fatal(err)
		}
		_, kvs, err = decodeXMLRPC(req.Body)
		if err != nil {
			t.Fatalf("xmlrpc: %v\n%s", err, req.Body)
		}
		if len(kvs) != 7 || kvs[1].Value != xmlText(number) || kvs[6].Value != xmlText(udf) {
			t.Fatalf("xmlrpc round trip: %q", kvs)
		}

		// JSON with an attachment: multipart, read back with mime/multipart and
		// encoding/json.
		req, err = Render(cfg, jsonCallout("TicketNumber", "RMM Alert ID", "Description", "Attachment1"), ev)
		if err != nil {
			t.Fatal(err)
		}
		parts, err := decodeMultipart(req.Header["Content-Type"], req.Body)
		if err != nil {
			t.Fatalf("multipart: %v\n%q", err, req.Body)
		}
		if len(parts) != 2 || parts[0].Name != "entry" || parts[1].Name != "attach-Attachment1" {
			t.Fatalf("multipart parts: %+v", parts)
		}
		if parts[1].FileName != paramText(attName) || !bytes.Equal(parts[1].Data, []byte(number)) {
			t.Fatalf("attachment part: %+v", parts[1])
		}
		var body struct {
			EntryID      string            `json:"entry_id"`
			EntryDetails map[string]string `json:"entry_details"`
		}
		if err := json.Unmarshal(parts[0].Data, &body); err != nil {
			t.Fatalf("json: %v\n%s", err, parts[0].Data)
		}
		want := map[string]string{"TicketNumber": jsonText(number), "RMM Alert ID": jsonText(udf), "Description": jsonText(desc), "Attachment1": jsonText(attName)}
		for k, v := range want {
			if body.EntryDetails[k] != v {
				t.Fatalf("json %s = %q, want %q", k, body.EntryDetails[k], v)
			}
		}
		if body.EntryID != jsonText(entryID) {
			t.Fatalf("entry_id = %q", body.EntryID)
		}

		// An entry ID that is not an integer is an error, never a panic.
		noForm := &rules.Event{Kind: rules.KindDelete, Form: "Other", EntryID: entryID}
		if _, err := Render(cfg, soapCallout(), noForm); err != nil && !strings.Contains(err.Error(), "is not an integer") {
			t.Fatalf("unexpected error %v", err)
		}
	})
}
