package rules

import (
	"reflect"
	"slices"

	"github.com/goccy/go-yaml/ast"
)

// Headers are the extra HTTP request headers of a callout or of a webhook callback,
// name → value. In the configuration each header is either a plain value
//
//	headers: {X-Tenant: acme}
//
// or a mapping that marks the value as a secret:
//
//	headers:
//	  X-Api-Key: {value: "${RMM_API_KEY}", secret: true}
//
// The value of a secret header is sent as written, but the HTTP API, the CLI and
// `ruleflow replay` show it as "********" (see MaskHeaders). The names of the secret
// headers are kept beside the map, in the owner's SecretHeaders.
type Headers map[string]string

var headersType = reflect.TypeFor[Headers]()

// secretHeaderHolder is a struct with a headers key whose secret names it keeps.
type secretHeaderHolder interface {
	setSecretHeaders(names []string)
}

func (c *Callout) setSecretHeaders(names []string)         { c.SecretHeaders = names }
func (w *WebhookCallback) setSecretHeaders(names []string) { w.SecretHeaders = names }

// decodeHeaders decodes a headers mapping whose values are strings or
// {value: string, secret: bool} mappings into v (a Headers), and hands the names of
// the secret headers, sorted, to owner. Errors are positioned at the offending node.
func (d *decoder) decodeHeaders(orig, n ast.Node, v reflect.Value, owner any, path string) {
	if _, isNull := n.(*ast.NullNode); isNull {
		return
	}
	entries, ok := d.mappingEntries(n)
	if !ok {
		d.errorf(orig, "expected a mapping of header names to values, got %s", describe(n))
		return
	}
	h := make(Headers, len(entries))
	var secret []string
	for _, mv := range entries {
		name, ok := d.keyString(mv.Key)
		if !ok {
			d.errorf(mv.Key, "mapping keys must be strings")
			continue
		}
		d.nodes[nodeKey{owner, path + "." + name + "#key"}] = mv.Key
		value, isSecret, ok := d.decodeHeaderValue(mv.Value, owner, path+"."+name, name)
		if !ok {
			continue
		}
		h[name] = value
		if isSecret {
			secret = append(secret, name)
		}
	}
	v.Set(reflect.ValueOf(h))
	if holder, ok := owner.(secretHeaderHolder); ok && len(secret) > 0 {
		slices.Sort(secret)
		holder.setSecretHeaders(secret)
	}
}

// decodeHeaderValue decodes one header value: a scalar, or {value, secret}.
func (d *decoder) decodeHeaderValue(orig ast.Node, owner any, path, name string) (value string, secret, ok bool) {
	n := d.resolve(orig)
	if n == nil {
		return "", false, false
	}
	nerr := len(d.errs)
	if _, isMapping := n.(*ast.MappingNode); !isMapping {
		if _, isValue := n.(*ast.MappingValueNode); !isValue {
			d.decodeValue(orig, reflect.ValueOf(&value).Elem(), owner, path)
			return value, false, len(d.errs) == nerr
		}
	}
	d.nodes[nodeKey{owner, path}] = orig
	entries, _ := d.mappingEntries(n)
	hasValue := false
	for _, mv := range entries {
		key, ok := d.keyString(mv.Key)
		switch {
		case !ok:
			d.errorf(mv.Key, "mapping keys must be strings")
		case key == "value":
			hasValue = true
			d.decodeValue(mv.Value, reflect.ValueOf(&value).Elem(), owner, path)
		case key == "secret":
			d.decodeValue(mv.Value, reflect.ValueOf(&secret).Elem(), owner, path+".secret")
		default:
			d.errorf(mv.Key, "unknown key %q in header %q (want value and secret)%s", key, name, didYouMean(key, []string{"value", "secret"}))
		}
	}
	if !hasValue && len(d.errs) == nerr {
		d.errorf(orig, "header %q is missing the required key \"value\"", name)
	}
	if len(d.errs) > nerr {
		d.bad[orig] = true
		return "", false, false
	}
	return value, secret, true
}
