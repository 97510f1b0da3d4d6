package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestXMLToJSON(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"leaf", `<a>hello</a>`, `{"a":"hello"}`},
		{"empty", `<a/>`, `{"a":""}`},
		{"whitespace only", "<a>\n  </a>", `{"a":""}`},
		{"children", `<issue><key>OPS-1</key><summary>Down</summary></issue>`, `{"issue":{"key":"OPS-1","summary":"Down"}}`},
		{"attributes", `<issue id="7" type="bug"><key>OPS-1</key></issue>`, `{"issue":{"@id":"7","@type":"bug","key":"OPS-1"}}`},
		{"attributes and text", `<price currency="EUR">12.50</price>`, `{"price":{"#text":"12.50","@currency":"EUR"}}`},
		{"repeated elements", `<r><i>1</i><i>2</i><j/><i>3</i></r>`, `{"r":{"i":["1","2","3"],"j":""}}`},
		{"repeated objects", `<r><i n="1"/><i n="2"/></r>`, `{"r":{"i":[{"@n":"1"},{"@n":"2"}]}}`},
		{"mixed content", "<p>Hello <b>you</b> there</p>", `{"p":{"#text":"Hello  there","b":"you"}}`},
		{"predefined entities and references", `<a>&lt;&amp;&gt;&quot;&apos;&#65;&#x42;</a>`, `{"a":"\u003c\u0026\u003e\"'AB"}`},
		{"CDATA", `<a><![CDATA[<not markup>]]></a>`, `{"a":"\u003cnot markup\u003e"}`},
		{"namespaces", `<s:Envelope xmlns:s="urn:x" xmlns="urn:d"><s:Body><m>1</m></s:Body></s:Envelope>`, `{"Envelope":{"@xmlns":"urn:d","@xmlns:s":"urn:x","Body":{"m":"1"}}}`},
		{"declaration, comment and PI", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c --><?pi x?><a>1</a>\n", `{"a":"1"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := XMLToJSON([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("got  %s\nwant %s", b, tc.want)
			}
		})
	}
}

func TestXMLToJSONErrors(t *testing.T) {
	deep := strings.Repeat("<a>", MaxXMLDepth+1) + strings.Repeat("</a>", MaxXMLDepth+1)
	ok := strings.Repeat("<a>", MaxXMLDepth) + strings.Repeat("</a>", MaxXMLDepth)
	if _, err := XMLToJSON([]byte(ok)); err != nil {
		t.Errorf("depth %d: %v", MaxXMLDepth, err)
	}
	tests := []struct {
		name, in, wantErr string
	}{
		{"billion laughs", billionLaughs, "xml:2: DOCTYPE is not allowed (no DTDs or entity declarations)"},
		{"external entity", "<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<a>&x;</a>", "xml:1: DOCTYPE is not allowed (no DTDs or entity declarations)"},
		{"other directive", `<!ELEMENT a ANY><a/>`, "xml:1: directive <!ELEMENT> is not allowed"},
		{"undeclared entity", `<a>&lol;</a>`, "xml:1: invalid character entity &lol;"},
		{"too deep", deep, "xml:1: elements nested deeper than 64"},
		{"two roots", `<a/><b/>`, "xml:1: more than one root element (<b>)"},
		{"text outside", `<a/>x`, "xml:1: text outside the root element"},
		{"empty", ``, "xml:1: no root element"},
		{"not XML", `{"a":1}`, "xml:1: text outside the root element"},
		{"unclosed", "<a>\n<b>", "xml:2: unexpected EOF"},
		{"mismatched", `<a></b>`, "xml:1: element <a> closed by </b>"},
		{"bad charset", `<?xml version="1.0" encoding="latin1"?><a/>`, `xml:1: opening charset "latin1": unsupported charset "latin1" (want UTF-8)`},
		{"unquoted attribute", `<a x=1/>`, "xml:1: unquoted or missing attribute value in element"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := XMLToJSON([]byte(tc.in))
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("error %v\nwant  %s", err, tc.wantErr)
			}
			if got != nil {
				t.Errorf("got a tree %v with an error", got)
			}
		})
	}
}

func FuzzXMLToJSON(f *testing.F) {
	for _, s := range []string{
		`<issue id="7"><key>OPS-1</key><key>OPS-2</key></issue>`,
		`<a>&lt;&#65;<![CDATA[x]]></a>`,
		billionLaughs,
		`<s:E xmlns:s="u"><s:B a="1">t<c/>u</s:B></s:E>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		tree, err := XMLToJSON([]byte(in))
		if err != nil {
			if tree != nil {
				t.Fatalf("tree %v with error %v", tree, err)
			}
			if _, ok := err.(*XMLError); !ok {
				t.Fatalf("error %T %v, want *XMLError", err, err)
			}
			return
		}
		if len(tree) != 1 {
			t.Fatalf("tree %v: want exactly one root", tree)
		}
		if _, err := json.Marshal(tree); err != nil {
			t.Fatalf("tree does not encode: %v", err)
		}
		if d := depth(tree); d > MaxXMLDepth+2 {
			t.Fatalf("tree depth %d", d)
		}
		if strings.Contains(strings.ToUpper(in), "<!DOCTYPE") && !strings.Contains(in, "<![CDATA[") && !strings.Contains(in, "<!--") {
			t.Fatalf("document with a DOCTYPE accepted: %q", in)
		}
	})
}
