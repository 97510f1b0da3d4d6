package qualification

import (
	"errors"
	"reflect"
	"slices"
	"sync"

	"github.com/expr-lang/expr/vm"
)

type programT = vm.Program

const boolKind = reflect.Bool

func sortStrings(s []string) { slices.Sort(s) }

func newVM() any { return new(vm.VM) }

// Program is a compiled qualification. It is immutable and safe for concurrent
// use: each evaluation borrows an expr-lang VM from a pool, as a vm.VM is not
// safe for concurrent use but is cheap to reuse.
type Program struct {
	src    string
	prog   *vm.Program
	opts   Options
	fields []string
	ext    *externalState // EXTERNAL() nesting depth and the cache of qualifications read from fields
	pool   sync.Pool      // of *vm.VM
	mask   uint64         // fields as a mask of the schema's field indexes (fieldset.go)
	maskOK bool           // mask holds every field
	// readsAll is set for a qualification with EXTERNAL(): the qualification
	// it reads from a field may read any other field (Reads, ReadsAny).
	readsAll bool
	// direct evaluates the qualification without the VM, when it can (direct.go).
	direct func(*Env) bool
}

// Source returns the qualification the program was compiled from.
func (p *Program) Source() string { return p.src }

// Fields returns the names of the fields the qualification reads, sorted.
func (p *Program) Fields() []string { return slices.Clone(p.fields) }

// Options returns the options the program was compiled with (Location never nil).
func (p *Program) Options() Options { return p.opts }

// Eval evaluates the qualification against env. A run-time failure (division
// by zero, a record value of the wrong type) is returned as an *Error that
// points into the qualification. Eval does not allocate on the common paths.
func (p *Program) Eval(env *Env) (bool, error) {
	if env == nil {
		return false, errors.New("qualification: Eval with nil Env")
	}
	if p.direct != nil {
		if ok, done, err := p.evalDirect(env); done {
			return ok, err
		}
	}
	return p.evalVM(env)
}

// evalVM evaluates the qualification on the expr-lang VM.
func (p *Program) evalVM(env *Env) (bool, error) {
	out, err := runVM(&p.pool, p.prog, env, p.src)
	if err != nil {
		return false, err
	}
	res, _ := out.(bool)
	return res, nil
}
