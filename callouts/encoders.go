package callouts

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ruleflow/ruleflow/rules"
)

// Encoders renders the callouts of one loaded configuration with what can be
// prepared once per callout done once: the method, URL and custom headers checked,
// the name-value GET URL split around its query, and the SOAP and XML-RPC envelopes
// compiled into templates (built with beevik/etree and kolo/xmlrpc, which stay the
// source of truth). Rendering an event then only computes and escapes its values.
//
// Encoders.Render gives byte for byte what Render gives, and the same errors. Build
// one per configuration load with Compile and use it with that configuration only;
// it is read-only afterwards and safe for concurrent use.
type Encoders struct {
	cfg      *rules.Config
	compiled map[*rules.Callout]*compiledCallout
}

// compiledCallout is what Compile prepared for one callout definition.
type compiledCallout struct {
	def    rules.Callout     // the definition as compiled, to notice a changed one
	method string            // GET or POST
	header map[string]string // the headers of every request; copied per request
	// urlPrefix and urlSuffix surround the query of a name-value GET.
	urlPrefix, urlSuffix string
	// envelope is the SOAP envelope, or the XML-RPC call with a <string> id;
	// intEnvelope the XML-RPC call with an <int> id.
	envelope, intEnvelope *template
}

// Compile prepares the callouts of cfg — its callouts and every callout a rule or
// webhook of it fires. A callout whose definition Render would refuse is not
// compiled: Encoders.Render then renders it with Render, which reports the error.
func Compile(cfg *rules.Config) *Encoders {
	if cfg == nil {
		cfg = &rules.Config{}
	}
	e := &Encoders{cfg: cfg, compiled: make(map[*rules.Callout]*compiledCallout)}
	add := func(c *rules.Callout) {
		if c == nil || e.compiled[c] != nil {
			return
		}
		if cc, err := compileCallout(cfg, c); err == nil {
			e.compiled[c] = cc
		}
	}
	for _, c := range cfg.Callouts {
		add(c)
	}
	for _, r := range cfg.AllRules() {
		for _, c := range r.Targets {
			add(c)
		}
	}
	return e
}

// compileCallout judges c's definition as Render does (rules.CheckCallout, in
// renderer.request) and prepares its requests.
func compileCallout(cfg *rules.Config, c *rules.Callout) (*compiledCallout, error) {
	r := &renderer{cfg: cfg, c: c}
	req, u, err := r.request()
	if err != nil {
		return nil, err
	}
	cc := &compiledCallout{def: *c, method: req.Method, header: req.Header}
	cc.def.Headers = maps.Clone(c.Headers)
	cc.def.SecretHeaders = slices.Clone(c.SecretHeaders)
	switch c.Format {
	case rules.FormatNameValue:
		if req.Method == "POST" {
			cc.header["Content-Type"] = "application/x-www-form-urlencoded"
			break
		}
		marker := templateMarker(0)
		full := nameValueURL(*u, marker)
		if strings.Count(full, marker) != 1 {
			return nil, fmt.Errorf("name-value URL: marker not found exactly once")
		}
		cc.urlPrefix, cc.urlSuffix, _ = strings.Cut(full, marker)
	case rules.FormatSOAP:
		setSOAPHeaders(cc.header, c.SOAPAction)
		build := func(std *stdData) ([]byte, error) {
			return buildSOAPEnvelope(c.MethodName, c.SOAPAction, std), nil
		}
		if cc.envelope, err = compileTemplate(build, etreeText, false); err != nil {
			return nil, err
		}
	case rules.FormatXMLRPC:
		cc.header["Content-Type"] = "text/xml"
		build := func(intID bool) func(*stdData) ([]byte, error) {
			return func(std *stdData) ([]byte, error) { return xmlrpcCall(c.MethodName, std, intID) }
		}
		if cc.envelope, err = compileTemplate(build(false), encodingXML, false); err != nil {
			return nil, err
		}
		if cc.intEnvelope, err = compileTemplate(build(true), encodingXML, true); err != nil {
			return nil, err
		}
	case rules.FormatJSON:
		// Rendered per event by the JSON encoder; the checks above and the usual
		// Content-Type (a body with attachments sets its own) are what it shares.
		cc.header["Content-Type"] = jsonContentType
	default:
		return nil, fmt.Errorf("unknown format %q", c.Format)
	}
	return cc, nil
}

// current reports whether c still reads as it did when it was compiled. Loaded
// definitions are not changed, but one changed in place must not be sent stale.
func (cc *compiledCallout) current(c *rules.Callout) bool {
	d := &cc.def
	return c.URL == d.URL && c.Method == d.Method && c.Format == d.Format &&
		c.MethodName == d.MethodName && c.SOAPAction == d.SOAPAction && maps.Equal(c.Headers, d.Headers) &&
		slices.Equal(c.SecretHeaders, d.SecretHeaders)
}

// Render builds the HTTP request for callout c fired by event ev, as Render(cfg, c,
// ev) does with the configuration e was compiled from.
func (e *Encoders) Render(c *rules.Callout, ev *rules.Event) (*Request, error) {
	er := e.ForEvent(ev)
	return er.Render(c)
}

// ForEvent returns a renderer of the callouts fired by ev, which computes what they
// share — the standard data but the udf — once. Each request it renders is the
// caller's own, to modify as it likes.
func (e *Encoders) ForEvent(ev *rules.Event) EventRenderer {
	return EventRenderer{enc: e, ev: ev, reserve: 1}
}

// ForEventReadOnly is ForEvent for a caller that never modifies the requests it
// gets (the engine's Handle: a request is what is stored and sent, so it is frozen
// once rendered). Such a request's Header map is its callout's compiled one, shared
// by every request of the callout, rather than a copy; and the n requests the
// caller expects (the callouts the event fires) are allocated together. Modifying
// the Header of a request it rendered would change it for all of them.
func (e *Encoders) ForEventReadOnly(ev *rules.Event, n int) EventRenderer {
	return EventRenderer{enc: e, ev: ev, reserve: max(n, 1), readOnly: true}
}

// EventRenderer renders the callouts one event fires (Encoders.ForEvent). It is
// meant for one goroutine, for the time the event is handled.
type EventRenderer struct {
	enc *Encoders
	ev  *rules.Event
	// shared is the standard data of the event (udf excepted), valid when
	// haveShared is set.
	shared     stdData
	haveShared bool
	// base is newRenderer's work for the event (its source looked up), valid
	// when haveBase is set; each callout sets its own c.
	base     renderer
	haveBase bool
	// nvHeadB or nvHeadS is the name-value encoding of shared up to the udf
	// value ("id=…&…&udf="), once a name-value callout has needed it: a part of
	// the first such request's body or URL (both never change once rendered).
	nvHeadB []byte
	nvHeadS string
	// readOnly: requests share their callout's header map (ForEventReadOnly).
	readOnly bool
	// reqs holds the requests allocated together, handed out in turn; reserve
	// is how many to allocate at once.
	reqs    []Request
	reserve int
	// bodies is where read-only requests' bodies are written one after the
	// other (one allocation for the event's bodies); each body is capped, so
	// that an append to one cannot write over the next.
	bodies []byte
}

// bodyRoom is the room reserved per request in bodies: a SOAP or XML-RPC envelope
// of the standard data is about 550–800 bytes, a name-value or JSON body about
// 200, a GET none (BenchmarkHandle/fire5: 1,703 bytes for its five). A body that
// does not fit what is left gets room of its own.
const bodyRoom = 384

// body returns an empty slice with room for about n bytes, to build a body on
// and hand to keep: read-only requests' bodies share one allocation (bodies).
func (er *EventRenderer) body(n int) []byte {
	if !er.readOnly {
		return make([]byte, 0, n)
	}
	if cap(er.bodies)-len(er.bodies) < n {
		er.bodies = make([]byte, 0, max(n, er.reserve*bodyRoom))
	}
	return er.bodies[len(er.bodies):len(er.bodies)]
}

// keep returns b, built on a slice from body, as a request's body: when it was
// built in place in bodies, that part of bodies is taken (an append that
// outgrew the room left it elsewhere, and bodies keeps the room). The result is
// capped to its length.
func (er *EventRenderer) keep(b []byte) []byte {
	if spare := er.bodies[len(er.bodies):cap(er.bodies)]; len(b) > 0 && len(b) <= len(spare) && &spare[0] == &b[0] {
		er.bodies = er.bodies[:len(er.bodies)+len(b)]
	}
	return b[:len(b):len(b)]
}

// newRequest returns a zero request from the ones allocated together: one
// allocation for the requests of an event rather than one each.
func (er *EventRenderer) newRequest() *Request {
	if len(er.reqs) == cap(er.reqs) {
		er.reqs = make([]Request, 0, max(er.reserve, 1))
	}
	er.reqs = er.reqs[:len(er.reqs)+1]
	return &er.reqs[len(er.reqs)-1]
}

// header is the header map of a request of cc: the compiled one itself when the
// requests are read-only, else a copy.
func (er *EventRenderer) header(cc *compiledCallout) map[string]string {
	if er.readOnly {
		return cc.header
	}
	return maps.Clone(cc.header)
}

// appendNameValue is appendNameValue(b, std) for std from er.standard, with the
// part every callout of the event shares ("id=…&…&udf=", the head) escaped once:
// head is where it lies in the result, for the caller to take it from the request
// it becomes (noteHead), frozen once rendered.
func (er *EventRenderer) appendNameValue(b []byte, std *stdData) (out []byte, headStart, headEnd int) {
	const udf = len(stdData{}) - 1
	headStart = len(b)
	switch {
	case er.nvHeadB != nil:
		b = append(b, er.nvHeadB...)
	case er.nvHeadS != "":
		b = append(b, er.nvHeadS...)
	default:
		head := *std
		head[udf].Value = "" // written last, as "udf=": the head ends there
		b = appendNameValue(b, &head)
	}
	headEnd = len(b)
	return appendFormEscaped(b, std[udf].Value), headStart, headEnd
}

// haveHead reports whether the name-value head of the event is known.
func (er *EventRenderer) haveHead() bool { return er.nvHeadB != nil || er.nvHeadS != "" }

// Render builds the HTTP request for callout c, as Render(cfg, c, ev) does with the
// configuration and the event of er.
func (er *EventRenderer) Render(c *rules.Callout) (*Request, error) {
	e, ev := er.enc, er.ev
	if e == nil {
		return Render(nil, c, ev)
	}
	cc := e.compiled[c]
	if cc == nil || ev == nil || !cc.current(c) {
		return Render(e.cfg, c, ev)
	}
	if !er.haveBase {
		er.base, er.haveBase = newRenderer(e.cfg, c, ev), true
	}
	r := er.base
	r.c = c
	if c.Format == rules.FormatJSON {
		body, contentType, err := r.jsonBody(er.body(jsonBodySize))
		if err != nil {
			return nil, err
		}
		req := er.newRequest()
		*req = Request{Method: cc.method, URL: c.URL, Header: er.header(cc), Body: er.keep(body), SecretHeaders: c.SecretHeaders}
		if contentType != jsonContentType {
			// A multipart body's boundary is its own: never in the shared map.
			if er.readOnly {
				req.Header = maps.Clone(cc.header)
			}
			req.Header["Content-Type"] = contentType
		}
		return req, nil
	}
	std, err := er.standard(&r)
	if err != nil {
		return nil, err
	}
	req := er.newRequest()
	*req = Request{Method: cc.method, URL: c.URL, Header: er.header(cc), SecretHeaders: c.SecretHeaders}
	switch c.Format {
	case rules.FormatNameValue:
		had := er.haveHead()
		if cc.method == "POST" {
			b, start, end := er.appendNameValue(er.body(nameValueSize(&std)), &std)
			req.Body = er.keep(b)
			if !had {
				er.nvHeadB = req.Body[start:end:end]
				if !er.readOnly { // the caller may change its body
					er.nvHeadB = bytes.Clone(er.nvHeadB)
				}
			}
			break
		}
		var buf [512]byte // the URL is built here and copied once into its string
		u, start, end := er.appendNameValue(append(buf[:0], cc.urlPrefix...), &std)
		req.URL = string(append(u, cc.urlSuffix...))
		if !had {
			er.nvHeadS = req.URL[start:end]
		}
	case rules.FormatSOAP, rules.FormatXMLRPC:
		t := cc.envelope
		if cc.intEnvelope != nil && xmlrpcIntID(&std) {
			t = cc.intEnvelope
		}
		req.Body = er.keep(t.fill(er.body(t.fillSize(&std)), &std))
	}
	return req, nil
}

// standard returns r.standard(), computing the part every callout of the event
// shares only once. An error is not kept: it names the callout.
func (er *EventRenderer) standard(r *renderer) (stdData, error) {
	if !er.haveShared {
		std, err := r.standard()
		if err != nil {
			return std, err
		}
		er.shared, er.haveShared = std, true
		return std, nil
	}
	std := er.shared
	std[6] = r.stdText(StdUDF, r.c.UDF)
	return std, nil
}
