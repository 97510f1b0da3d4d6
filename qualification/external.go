package qualification

import (
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/expr-lang/expr/ast"
)

// MaxExternalDepth is how deeply EXTERNAL() may nest: a qualification read from a
// field may itself use EXTERNAL, down to this many levels.
const MaxExternalDepth = 4

// maxExternalCache bounds the compiled qualifications an EXTERNAL cache keeps; past
// it, field values are compiled on every evaluation.
const maxExternalCache = 1024

// externalState is what a compilation knows about EXTERNAL: how deeply it is
// nested, and the cache its programs share with the top-level program's.
type externalState struct {
	depth int
	cache *externalCache
}

// externalCache holds the qualifications EXTERNAL read from fields, compiled, by
// nesting depth and text. Failed compilations are cached too.
type externalCache struct {
	mu sync.Mutex
	m  map[externalKey]externalEntry
}

type externalKey struct {
	depth int
	text  string
}

type externalEntry struct {
	prog *Program
	err  error
}

func (c *externalCache) get(k externalKey, compile func() (*Program, error)) (*Program, error) {
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return e.prog, e.err
	}
	p, err := compile()
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[externalKey]externalEntry)
	}
	if len(c.m) < maxExternalCache {
		c.m[k] = externalEntry{p, err}
	}
	c.mu.Unlock()
	return p, err
}

// externalSpec is one bound EXTERNAL(field).
type externalSpec struct {
	src   string
	pos   int
	ref   string // the field as written, for messages: 'Qual' or $Qual$
	opts  Options
	inner *externalState // the state of the qualifications read from the field
}

// bindExternal binds EXTERNAL('Field'): at evaluation the field's value is compiled
// (through the cache) with the same options and evaluated against the same Env.
func (b *binder) bindExternal(n *ExternalExpr) ast.Node {
	b.external = true
	v := b.bindValue(n.X)
	if v == nil {
		return constNode(false)
	}
	if v.t != tString && v.t != tAny {
		b.errorf(n.X.Pos(), "EXTERNAL needs a character field holding a qualification, found "+v.describe())
		return constNode(false)
	}
	if b.ext.depth >= MaxExternalDepth {
		b.errorf(n.Pos(), "EXTERNAL nested more than "+strconv.Itoa(MaxExternalDepth)+" levels deep")
		return constNode(false)
	}
	spec := &externalSpec{src: b.src, pos: n.Pos(), ref: n.X.String(), opts: b.opts,
		inner: &externalState{depth: b.ext.depth + 1, cache: b.ext.cache}}
	load := v.load
	return predNode(func(e any) bool {
		env := e.(*Env)
		return spec.eval(env, load(env))
	}, envNode())
}

// eval evaluates the qualification held in v. NULL (or "") is false: there is no
// qualification to meet. A value that does not compile, or fails, is a run-time
// error at EXTERNAL naming the field.
func (s *externalSpec) eval(env *Env, v any) bool {
	if isNull(v) {
		return false
	}
	text, ok := v.(string)
	if !ok {
		panic(runtimeError(s.src, s.pos, "EXTERNAL("+s.ref+"): the field holds "+goTypeName(v)+", not a qualification"))
	}
	prog, err := s.inner.cache.get(externalKey{s.inner.depth, text}, func() (*Program, error) {
		return compile(text, s.opts, s.inner)
	})
	if err != nil {
		panic(runtimeError(s.src, s.pos, "EXTERNAL("+s.ref+"): the field's value is not a valid qualification: "+innerMessage(err)))
	}
	res, err := prog.Eval(env)
	if err != nil {
		panic(runtimeError(s.src, s.pos, "EXTERNAL("+s.ref+"): "+innerMessage(err)))
	}
	return res
}

// innerMessage is the first error of a qualification read from a field, with its
// position in the field's value.
func innerMessage(err error) string {
	var list ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		err = list[0]
	}
	var qe *Error
	if errors.As(err, &qe) {
		if strings.HasPrefix(qe.Msg, "EXTERNAL(") && qe.Offset == 0 {
			return qe.Msg // a nested EXTERNAL has named its own field and position
		}
		return "at column " + strconv.Itoa(qe.Column) + " of " + strconv.Quote(qe.Source) + ": " + qe.Msg
	}
	return err.Error()
}
