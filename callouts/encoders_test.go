package callouts

import (
	"bytes"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ruleflow/ruleflow/qualification/goldentest"
	"github.com/ruleflow/ruleflow/rules"
)

// compileWith compiles cfg with cs as its callouts and checks that each of them
// was compiled, so that the test exercises the compiled path, not the fallback.
func compileWith(t testing.TB, cfg *rules.Config, cs ...*rules.Callout) *Encoders {
	t.Helper()
	cfg.Callouts = cs
	enc := Compile(cfg)
	for _, c := range cs {
		if enc.compiled[c] == nil {
			t.Fatalf("callout %q was not compiled", c.Name)
		}
	}
	return enc
}

// renderBoth renders with the library (Render) and with the compiled encoders and
// fails unless both give the same request, or the same error.
func renderBoth(t *testing.T, cfg *rules.Config, enc *Encoders, c *rules.Callout, ev *rules.Event) *Request {
	t.Helper()
	want, wantErr := Render(cfg, c, ev)
	got, gotErr := enc.Render(c, ev)
	if wantErr != nil || gotErr != nil {
		if wantErr == nil || gotErr == nil || wantErr.Error() != gotErr.Error() {
			t.Fatalf("library error %v, compiled error %v", wantErr, gotErr)
		}
		if got != nil {
			t.Fatal("compiled Render returned a request with an error")
		}
		return nil
	}
	if w, g := dump(want), dump(got); !bytes.Equal(w, g) {
		t.Fatalf("compiled render differs from the library (-library +compiled):\n%s", cmp.Diff(string(w), string(g)))
	}
	if !slices.Equal(want.SecretHeaders, got.SecretHeaders) {
		t.Fatalf("secret headers: library %q, compiled %q", want.SecretHeaders, got.SecretHeaders)
	}
	er := enc.ForEventReadOnly(ev, 1) // the engine's way: shared header, bodies together
	ro, err := er.Render(c)
	if err != nil {
		t.Fatalf("read-only render: %v", err)
	}
	if w, g := dump(want), dump(ro); !bytes.Equal(w, g) {
		t.Fatalf("read-only render differs from the library (-library +compiled):\n%s", cmp.Diff(string(w), string(g)))
	}
	return got
}

// TestEncodersGolden: the compiled encoders give the golden files byte for byte.
func TestEncodersGolden(t *testing.T) {
	if goldentest.Updating() {
		t.Skip("golden files are written by TestRenderGolden")
	}
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			enc := compileWith(t, cfg, tc.callout)
			req, err := enc.Render(tc.callout, tc.event)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.name, dump(req))
			renderBoth(t, cfg, enc, tc.callout, tc.event)
		})
	}
}

// hardValues need escaping, are not valid UTF-8 or not XML characters, or are long.
func hardValues() []string {
	return []string{
		"", " ", "\x00", "a\x00b", "\x01\x02\x1f\x7f", "\t\n\r", "\r\n",
		"]]>", "]]]]><![CDATA[>", "&", "&amp;", "<", ">", `"'`, "<a href=\"x\">'q'</a>",
		"\xff", "a\xffb", "\xc3", "\xe2\x82", "\xed\xa0\x80", // invalid UTF-8, an encoded surrogate
		"\uFFFD", "\uFFFE", "\uFFFF", "\U0010FFFF", "\u2028\u2029", "\u0085",
		"Zürich ✓ 東京", "\U0001F600",
		strings.Repeat("a&<>\"'\r\n\x00\xff", 20000),
		strings.Repeat("x", 1<<20),
	}
}

// TestEncodersMatchLibrary renders every hard value in every slot of every format
// both ways.
func TestEncodersMatchLibrary(t *testing.T) {
	cfg := testConfig(t)
	cs := []*rules.Callout{nameValueCallout("GET"), nameValueCallout("POST"), soapCallout(), xmlrpcCallout(), jsonCallout()}
	enc := compileWith(t, cfg, cs...)
	for i, v := range hardValues() {
		ev := seedEvent(rules.KindCreate)
		ev.After["TicketNumber"] = v
		ev.After["Status"] = v
		ev.After["CreateDate"] = v // not a date-time: sent as it is
		ev.After["LastActivityDate"] = v + "x"
		ev.After["RMM Alert ID"] = v
		for _, c := range cs {
			if renderBoth(t, cfg, enc, c, ev) == nil {
				t.Fatalf("value %d: refused", i)
			}
		}
	}
	// The id: XML-RPC writes an <int> within 32 bits, a <string> beyond or when NULL.
	for _, id := range []any{int64(0), int64(-1), int64(math.MaxInt32), int64(math.MinInt32),
		int64(math.MaxInt32) + 1, int64(math.MinInt32) - 1, int64(math.MaxInt64), nil, " 42 ", "x"} {
		ev := seedEvent(rules.KindCreate)
		ev.After["TicketID"] = id
		for _, c := range cs {
			renderBoth(t, cfg, enc, c, ev)
		}
	}
	// The domain comes from the configuration.
	for _, v := range hardValues()[:12] {
		cfg := testConfig(t)
		cfg.Domain = v
		enc := compileWith(t, cfg, cs...)
		for _, c := range cs {
			renderBoth(t, cfg, enc, c, seedEvent(rules.KindUpdate))
		}
	}
}

// TestEncodersSecretHeaders: the names of the secret headers are in every
// compiled request, as in the library's, so that Masked hides their values.
func TestEncodersSecretHeaders(t *testing.T) {
	cfg := testConfig(t)
	cs := []*rules.Callout{nameValueCallout("GET"), soapCallout(), xmlrpcCallout(), jsonCallout()}
	for _, c := range cs {
		if c.Headers == nil {
			c.Headers = map[string]string{}
		}
		c.Headers["X-Api-Key"] = "s3cret-value"
		c.SecretHeaders = []string{"X-Api-Key"}
	}
	enc := compileWith(t, cfg, cs...)
	for _, c := range cs {
		req := renderBoth(t, cfg, enc, c, seedEvent(rules.KindUpdate))
		if !slices.Equal(req.SecretHeaders, []string{"X-Api-Key"}) {
			t.Errorf("%s: secret headers %q", c.Name, req.SecretHeaders)
		}
		if bytes.Contains(dump(req.Masked()), []byte("s3cret-value")) {
			t.Errorf("%s: masked request shows the secret", c.Name)
		}
	}
}

// TestEncodersRefuseAsLibrary: a definition the library path refuses is not
// compiled, and rendering it gives the library's error.
func TestEncodersRefuseAsLibrary(t *testing.T) {
	mod := func(base *rules.Callout, f func(*rules.Callout)) *rules.Callout { f(base); return base }
	bad := []*rules.Callout{
		mod(soapCallout(), func(c *rules.Callout) { c.Method = "GET" }),
		mod(soapCallout(), func(c *rules.Callout) { c.Method = "PUT" }),
		mod(soapCallout(), func(c *rules.Callout) { c.URL = "https://svc:hunter2@rmm.example.com/x" }),
		mod(soapCallout(), func(c *rules.Callout) { c.URL = "ftp://x/" }),
		mod(soapCallout(), func(c *rules.Callout) { c.MethodName = "Close Ticket" }),
		mod(soapCallout(), func(c *rules.Callout) { c.SOAPAction = "" }),
		mod(soapCallout(), func(c *rules.Callout) { c.SOAPAction = "a\x00b" }),
		mod(xmlrpcCallout(), func(c *rules.Callout) { c.MethodName = "a<b" }),
		mod(xmlrpcCallout(), func(c *rules.Callout) { c.Headers = map[string]string{"X-A": "1\r\nX-B: 2"} }),
		mod(jsonCallout(), func(c *rules.Callout) { c.Headers = map[string]string{"Authorization": "x"} }),
		mod(jsonCallout(), func(c *rules.Callout) { c.Format = "csv" }),
	}
	cfg := testConfig(t)
	cfg.Callouts = bad
	enc := Compile(cfg)
	for _, c := range bad {
		if enc.compiled[c] != nil {
			t.Errorf("callout %+v was compiled", c)
		}
		if renderBoth(t, cfg, enc, c, seedEvent(rules.KindCreate)) != nil {
			t.Errorf("callout %+v rendered", c)
		}
	}
	// A text id (a mapped field holding "T-1", or the entry ID of an event whose
	// source maps no id) is sent as text, as the library sends it: a <string> in
	// XML-RPC, from the template compiled for it.
	good := []*rules.Callout{soapCallout(), xmlrpcCallout(), nameValueCallout("GET"), nameValueCallout("POST")}
	enc = compileWith(t, cfg, good...)
	ev := seedEvent(rules.KindCreate)
	ev.After["TicketID"] = "T-1"
	noForm := &rules.Event{Kind: rules.KindCallback, Form: "Other", EntryID: "call_0001"}
	for _, c := range good {
		for _, ev := range []*rules.Event{ev, noForm} {
			if renderBoth(t, cfg, enc, c, ev) == nil {
				t.Errorf("%s: text id refused", c.Name)
			}
		}
	}
}

// TestEncodersChangedDefinition: a definition changed after compiling is rendered
// as it now reads, never from the stale template.
func TestEncodersChangedDefinition(t *testing.T) {
	cfg := testConfig(t)
	soap, xr, nv := soapCallout(), xmlrpcCallout(), nameValueCallout("GET")
	enc := compileWith(t, cfg, soap, xr, nv)
	soap.SOAPAction = "urn:other/CloseTicket"
	xr.MethodName = "other.method"
	xr.Headers["x-tenant"] = "other"
	nv.URL = "https://other.example.com/"
	for _, c := range []*rules.Callout{soap, xr, nv} {
		req := renderBoth(t, cfg, enc, c, seedEvent(rules.KindCreate))
		if !bytes.Contains(dump(req), []byte("other")) {
			t.Errorf("%s: stale request\n%s", c.Name, dump(req))
		}
	}
	// An uncompiled callout and a nil Encoders render with the library.
	other := soapCallout()
	renderBoth(t, cfg, enc, other, seedEvent(rules.KindCreate))
	var none *Encoders
	if _, err := none.Render(other, seedEvent(rules.KindCreate)); err != nil {
		t.Fatal(err)
	}
}

// TestEncodersConcurrent renders from many goroutines at once (run with -race).
func TestEncodersConcurrent(t *testing.T) {
	cfg := testConfig(t)
	cs := []*rules.Callout{nameValueCallout("GET"), soapCallout(), xmlrpcCallout(), jsonCallout()}
	enc := compileWith(t, cfg, cs...)
	want := make([][]byte, len(cs))
	for i, c := range cs {
		req, err := Render(cfg, c, specialEvent())
		if err != nil {
			t.Fatal(err)
		}
		want[i] = dump(req)
	}
	done := make(chan error)
	for range 8 {
		go func() {
			for range 50 {
				for i, c := range cs {
					req, err := enc.Render(c, specialEvent())
					if err == nil && !bytes.Equal(dump(req), want[i]) {
						err = &mismatch{c.Name}
					}
					if err != nil {
						done <- err
						return
					}
					req.Header["X-Mutated"] = "1" // a request is the caller's own
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

type mismatch struct{ name string }

func (m *mismatch) Error() string { return m.name + ": concurrent render differs" }

// FuzzEncoders compares the compiled encoders with the library path on arbitrary
// values in every standard field and arbitrary method names, SOAP actions and
// domains: the requests are byte-identical, or both paths refuse with the same error.
func FuzzEncoders(f *testing.F) {
	f.Add("T20211120.0001", "New", "MY_UDF_VALUE", "2021-11-20", "8176", "CloseTicket", "http://tempuri.org/CloseTicket", "DEV3.COM")
	f.Add(`&<>"'`, "]]>", "\x00\x01\r\n\t", "\xff\xfe", "-1", "ticket.close", "urn:x", "")
	f.Add("Zürich ✓ 東京", "\uFFFD\uFFFE", "\u2028\u2029", "\xed\xa0\x80", "99999999999", "a<b", "a\"b", "&")
	f.Add("", "", "", "", "", "", "", "")
	f.Add(strings.Repeat("<&>\x00", 5000), "\r", "\x7f", "]]]]><![CDATA[>", "2147483648", "m\uE000ruleflow-slot-1\uE001", "\uE000ruleflow-slot-0\uE001", "\uE000ruleflow-slot-5\uE001")
	f.Fuzz(func(t *testing.T, number, status, udf, created, entryID, method, action, domain string) {
		cfg := testConfig(t)
		cfg.Domain = domain
		cs := []*rules.Callout{nameValueCallout("GET"), nameValueCallout("POST"), soapCallout(), xmlrpcCallout(), jsonCallout()}
		cs[2].MethodName, cs[2].SOAPAction = method, action
		cs[3].MethodName = method
		cfg.Callouts = cs
		enc := Compile(cfg)
		mapped := seedEvent(rules.KindCreate)
		mapped.After["TicketNumber"] = number
		mapped.After["Status"] = status
		mapped.After["RMM Alert ID"] = udf
		mapped.After["CreateDate"] = created
		mapped.After["TicketID"] = entryID
		// Without a form the entry ID is the id.
		unmapped := &rules.Event{Kind: rules.KindUpdate, Form: "Other", EntryID: entryID, After: rules.Record{"x": number}}
		for _, ev := range []*rules.Event{mapped, unmapped} {
			for _, c := range cs {
				renderBoth(t, cfg, enc, c, ev)
			}
		}
	})
}

// TestEventRenderer: the callouts of one event, rendered with one EventRenderer
// (which computes the shared standard data once), give what the library gives for
// each — callouts with different UDFs, and with a text id.
func TestEventRenderer(t *testing.T) {
	cfg := testConfig(t)
	noUDF := soapCallout()
	noUDF.UDF = ""
	byID := xmlrpcCallout()
	byID.UDF = "536870913"
	descUDF := nameValueCallout("GET")
	descUDF.UDF = "Description"
	cs := []*rules.Callout{nameValueCallout("POST"), noUDF, byID, descUDF, jsonCallout(), soapCallout()}
	enc := compileWith(t, cfg, cs...)
	for _, ev := range []*rules.Event{seedEvent(rules.KindCreate), seedEvent(rules.KindUpdate), specialEvent()} {
		for _, readOnly := range []bool{false, true} {
			er := enc.ForEvent(ev)
			if readOnly {
				er = enc.ForEventReadOnly(ev, 2) // fewer than the callouts: more are allocated
			}
			var got []*Request
			for _, c := range cs {
				req, err := er.Render(c)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, req)
				if !readOnly {
					want, err := Render(cfg, c, ev)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(string(dump(want)), string(dump(req))); diff != "" {
						t.Errorf("%s (-library +event renderer):\n%s", c.Name, diff)
					}
					// The caller's own: changing it changes none of the later ones.
					clear(req.Body)
					req.Header["X-Mutated"] = "1"
				}
			}
			if !readOnly {
				continue
			}
			// Compared once all are rendered: no body was written over by a later one.
			for i, c := range cs {
				want, err := Render(cfg, c, ev)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(string(dump(want)), string(dump(got[i]))); diff != "" {
					t.Errorf("%s (-library +event renderer):\n%s", c.Name, diff)
				}
			}
		}
	}
	// A text id is shared as text by every callout of the event.
	text := seedEvent(rules.KindCreate)
	text.After["TicketID"] = "T-1"
	er := enc.ForEvent(text)
	for _, c := range cs {
		want, wantErr := Render(cfg, c, text)
		got, err := er.Render(c)
		if err != nil || wantErr != nil {
			t.Fatalf("%s: error %v, library %v", c.Name, err, wantErr)
		}
		if diff := cmp.Diff(string(dump(want)), string(dump(got))); diff != "" {
			t.Errorf("%s, text id (-library +event renderer):\n%s", c.Name, diff)
		}
	}
}

// TestReadOnlySharedHeader: read-only requests share their callout's header map,
// and a multipart body (whose boundary is its own) gets a copy, leaving the shared
// map as compiled for the next event.
func TestReadOnlySharedHeader(t *testing.T) {
	cfg := testConfig(t)
	c := jsonCallout()
	enc := compileWith(t, cfg, c)
	att := seedEvent(rules.KindCreate)
	att.After["Attachment1"] = &rules.Attachment{Name: "a.txt", Data: []byte("x")}
	plain := seedEvent(rules.KindCreate)
	var got []*Request
	for _, ev := range []*rules.Event{plain, att, plain} {
		er := enc.ForEventReadOnly(ev, 1)
		req, err := er.Render(c)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Render(cfg, c, ev)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(dump(want)), string(dump(req))); diff != "" {
			t.Fatalf("(-library +read-only):\n%s", diff)
		}
		got = append(got, req)
	}
	if ct := got[1].Header["Content-Type"]; !strings.HasPrefix(ct, "multipart/form-data; boundary=") {
		t.Errorf("attachment: Content-Type %q", ct)
	}
	shared := enc.compiled[c].header
	if ct := shared["Content-Type"]; ct != jsonContentType {
		t.Errorf("compiled header: Content-Type %q after a multipart render", ct)
	}
	for _, i := range []int{0, 2} {
		if reflect.ValueOf(got[i].Header).UnsafePointer() != reflect.ValueOf(shared).UnsafePointer() {
			t.Errorf("request %d: header is a copy, want the compiled map", i)
		}
	}
}
