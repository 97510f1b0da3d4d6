package callouts

import (
	"math"

	"github.com/kolo/xmlrpc"
)

// xmlrpcStandard is the deterministic, ordered wrapper handed to kolo/xmlrpc: a struct
// encodes its members in declaration order (a map's order would be random). The
// member names are fixed, so they need no escaping; values are escaped by the
// encoder. Each member is an any so that an absent id can be an empty string rather
// than the invalid empty <value/>.
type xmlrpcStandard struct {
	ID                   any    `xmlrpc:"id"`
	Number               string `xmlrpc:"number"`
	Status               string `xmlrpc:"status"`
	CreatedDatetime      string `xmlrpc:"created_datetime"`
	LastActivityDatetime string `xmlrpc:"last_activity_datetime"`
	Domain               string `xmlrpc:"domain"`
	UDF                  string `xmlrpc:"udf"`
}

// xmlrpc encodes <methodCall><methodName>METHOD</methodName> with one param, a
// <struct> of the standard data in standard order: id as <int> when it is an
// integer, the rest as <string>. An id that is text (the call_… entry ID of a
// callback event, say), NULL, or outside XML-RPC's 32-bit int range, is written as
// a <string> (the text, empty, or the decimal digits) so that no value is lost or
// invalid.
func (r *renderer) xmlrpc(req *Request) error {
	std, err := r.standard()
	if err != nil {
		return err
	}
	body, err := xmlrpcCall(r.c.MethodName, &std, xmlrpcIntID(&std))
	if err != nil {
		return r.errorf("xmlrpc: %v", err)
	}
	req.Header["Content-Type"] = "text/xml"
	req.Body = body
	return nil
}

// xmlrpcIntID reports whether the id is sent as an <int>: it is an integer within
// XML-RPC's 32-bit range.
func xmlrpcIntID(std *stdData) bool {
	id := std[0]
	return id.IsInt && id.Int >= math.MinInt32 && id.Int <= math.MaxInt32
}

// xmlrpcCall builds the method call with kolo/xmlrpc; intID sends the id as
// std[0].Int in an <int>, otherwise std[0].Value in a <string>.
func xmlrpcCall(method string, std *stdData, intID bool) ([]byte, error) {
	p := xmlrpcStandard{
		ID:                   std[0].Value,
		Number:               std[1].Value,
		Status:               std[2].Value,
		CreatedDatetime:      std[3].Value,
		LastActivityDatetime: std[4].Value,
		Domain:               std[5].Value,
		UDF:                  std[6].Value,
	}
	if intID {
		p.ID = std[0].Int
	}
	return xmlrpc.EncodeMethodCall(method, p)
}
