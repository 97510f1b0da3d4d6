package callouts

import (
	"bytes"
	"strings"

	"github.com/beevik/etree"
)

// The namespaces declared on every SOAP 1.1 envelope (Autotask seed).
const (
	nsXSI  = "http://www.w3.org/2001/XMLSchema-instance"
	nsXSD  = "http://www.w3.org/2001/XMLSchema"
	nsSOAP = "http://schemas.xmlsoap.org/soap/envelope/"
)

// SOAPNamespace returns the namespace of a SOAP callout's method element: the SOAP
// action with the method name removed, as the Autotask seed defines it
// (NAMESPACE = SOAPACTION.Replace(METHODNAME, "")). When the action ends with the
// method name only that suffix is removed, so "http://x/CloseTicketService/CloseTicket"
// gives "http://x/CloseTicketService/"; otherwise every occurrence is removed.
func SOAPNamespace(soapAction, method string) string {
	if method == "" {
		return soapAction
	}
	if strings.HasSuffix(soapAction, method) {
		return strings.TrimSuffix(soapAction, method)
	}
	return strings.ReplaceAll(soapAction, method, "")
}

// soap encodes the standard data as the SOAP 1.1 envelope of the Autotask seed: one
// child of <METHOD xmlns="NAMESPACE"> per standard field, each on its own line.
// NULL and empty values give an empty element (<udf></udf>).
func (r *renderer) soap(req *Request) error {
	std, err := r.standard()
	if err != nil {
		return err
	}
	setSOAPHeaders(req.Header, r.c.SOAPAction)
	req.Body = buildSOAPEnvelope(r.c.MethodName, r.c.SOAPAction, &std)
	return nil
}

// setSOAPHeaders sets the SOAP 1.1 headers over the custom ones.
func setSOAPHeaders(h map[string]string, action string) {
	delete(h, "Soapaction") // a custom header of the same name; the action wins
	h["Content-Type"] = "text/xml; charset=utf-8"
	h["SOAPAction"] = `"` + action + `"`
}

// buildSOAPEnvelope builds the envelope with etree. The tree is built with a line break
// before and after every element, as in the seed, rather than by Indent, so values
// are never touched.
func buildSOAPEnvelope(method, action string, std *stdData) []byte {
	doc := etree.NewDocument()
	doc.WriteSettings.CanonicalEndTags = true
	// Escape & < > and write CR as &#xD; so that every value survives a parser exactly.
	doc.WriteSettings.CanonicalText = true
	doc.CreateProcInst("xml", `version="1.0" encoding="utf-8"`)
	doc.CreateText("\n")
	env := doc.CreateElement("soap:Envelope")
	doc.CreateText("\n")
	env.CreateAttr("xmlns:xsi", nsXSI)
	env.CreateAttr("xmlns:xsd", nsXSD)
	env.CreateAttr("xmlns:soap", nsSOAP)
	env.CreateText("\n")
	soapBody := env.CreateElement("soap:Body")
	env.CreateText("\n")
	soapBody.CreateText("\n")
	call := soapBody.CreateElement(method)
	soapBody.CreateText("\n")
	call.CreateAttr("xmlns", SOAPNamespace(action, method))
	for _, v := range std {
		call.CreateText("\n")
		call.CreateElement(v.Name).SetText(v.Value)
	}
	call.CreateText("\n")
	var buf bytes.Buffer
	buf.Grow(640)
	for _, tok := range doc.Child {
		tok.WriteTo(&buf, &doc.WriteSettings)
	}
	return buf.Bytes()
}
