package callouts

// Independent decoders for the four wire formats: net/url, encoding/xml,
// encoding/json and mime/multipart. The round-trip and fuzz tests parse every
// rendered body with them.

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"
)

// kv is one decoded name/value pair, in wire order. Type is the XML-RPC value type.
type kv struct {
	Name, Value, Type string
}

// decodeNameValue parses an application/x-www-form-urlencoded text in order.
func decodeNameValue(raw string) ([]kv, error) {
	if _, err := url.ParseQuery(raw); err != nil {
		return nil, err
	}
	var out []kv
	for part := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(part, "=")
		ku, err := url.QueryUnescape(k)
		if err != nil {
			return nil, err
		}
		vu, err := url.QueryUnescape(v)
		if err != nil {
			return nil, err
		}
		out = append(out, kv{Name: ku, Value: vu})
	}
	return out, nil
}

type soapEnvelope struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Body    struct {
		XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
		Call    struct {
			XMLName xml.Name
			Fields  []struct {
				XMLName xml.Name
				Value   string `xml:",chardata"`
			} `xml:",any"`
		} `xml:",any"`
	}
}

// decodeSOAP parses a SOAP 1.1 envelope and returns the method element's name and
// namespace and its children in order.
func decodeSOAP(body []byte) (method xml.Name, fields []kv, err error) {
	var env soapEnvelope
	if err := xml.Unmarshal(body, &env); err != nil {
		return xml.Name{}, nil, err
	}
	for _, f := range env.Body.Call.Fields {
		if f.XMLName.Space != env.Body.Call.XMLName.Space {
			return xml.Name{}, nil, fmt.Errorf("field %s in namespace %q, want the method's %q", f.XMLName.Local, f.XMLName.Space, env.Body.Call.XMLName.Space)
		}
		fields = append(fields, kv{Name: f.XMLName.Local, Value: f.Value})
	}
	return env.Body.Call.XMLName, fields, nil
}

type rpcValue struct {
	Struct *struct {
		Members []struct {
			Name  string   `xml:"name"`
			Value rpcValue `xml:"value"`
		} `xml:"member"`
	} `xml:"struct"`
	Int    *string `xml:"int"`
	I4     *string `xml:"i4"`
	String *string `xml:"string"`
	Text   string  `xml:",chardata"`
}

type rpcCall struct {
	XMLName    xml.Name `xml:"methodCall"`
	MethodName string   `xml:"methodName"`
	Params     []struct {
		Value rpcValue `xml:"value"`
	} `xml:"params>param"`
}

// decodeXMLRPC parses a methodCall with one struct param and returns its members.
func decodeXMLRPC(body []byte) (method string, members []kv, err error) {
	var call rpcCall
	if err := xml.Unmarshal(body, &call); err != nil {
		return "", nil, err
	}
	if len(call.Params) != 1 || call.Params[0].Value.Struct == nil {
		return "", nil, fmt.Errorf("want one struct param, got %d params", len(call.Params))
	}
	for _, m := range call.Params[0].Value.Struct.Members {
		v := m.Value
		switch {
		case v.Int != nil:
			members = append(members, kv{m.Name, *v.Int, "int"})
		case v.I4 != nil:
			members = append(members, kv{m.Name, *v.I4, "i4"})
		case v.String != nil:
			members = append(members, kv{m.Name, *v.String, "string"})
		default:
			return "", nil, fmt.Errorf("member %s: value without a type element", m.Name)
		}
	}
	return call.MethodName, members, nil
}

// jsonObjectKeys returns the keys of the top-level JSON object in order, and the
// keys of the object under nested (if present) in order.
func jsonObjectKeys(body []byte, nested string) (top, inner []string, err error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, nil, err
	}
	top, err = keysInOrder(body)
	if err != nil {
		return nil, nil, err
	}
	if raw, ok := obj[nested]; ok {
		inner, err = keysInOrder(raw)
	}
	return top, inner, err
}

func keysInOrder(raw []byte) ([]string, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not an object: %v %v", tok, err)
	}
	var keys []string
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// mpPart is one decoded multipart part.
type mpPart struct {
	Name, FileName, ContentType string
	Data                        []byte
}

// decodeMultipart parses a multipart/form-data body.
func decodeMultipart(contentType string, body []byte) ([]mpPart, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, err
	}
	if mt != "multipart/form-data" {
		return nil, fmt.Errorf("media type %s", mt)
	}
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var parts []mpPart
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			return parts, nil
		}
		if err != nil {
			return nil, err
		}
		_, cd, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
		if err != nil {
			return nil, fmt.Errorf("content-disposition %q: %v", p.Header.Get("Content-Disposition"), err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, err
		}
		parts = append(parts, mpPart{Name: cd["name"], FileName: cd["filename"], ContentType: p.Header.Get("Content-Type"), Data: data})
	}
}
