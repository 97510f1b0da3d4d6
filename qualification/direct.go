package qualification

import "github.com/expr-lang/expr/ast"

// A direct condition is a qualification evaluated without the expr-lang VM:
// when every comparison binds to one fused predicate of the Env (a field or
// keyword against a constant, a NULL test) and the rest is AND, OR, NOT and
// constants, the program is a tree of Go closures. It calls the very
// predicates the VM program calls, in the same order, short-circuiting the
// same way; only the VM's per-run setup is saved. A predicate that fails
// panics with an *Error, which Eval returns as runVM would; any other panic
// is left to the VM program, which reports it as it always has.

// directCond returns the closure tree of a bound condition, or nil when a part
// of it is not direct.
func directCond(n ast.Node) func(*Env) bool {
	switch n := n.(type) {
	case *ast.BinaryNode:
		x, y := directCond(n.Left), directCond(n.Right)
		if x == nil || y == nil {
			return nil
		}
		switch n.Operator {
		case "and":
			return func(e *Env) bool { return x(e) && y(e) }
		case "or":
			return func(e *Env) bool { return x(e) || y(e) }
		}
	case *ast.UnaryNode:
		if x := directCond(n.Node); x != nil && n.Operator == "not" {
			return func(e *Env) bool { return !x(e) }
		}
	case *ast.ConstantNode:
		if c, ok := n.Value.(bool); ok {
			return func(*Env) bool { return c }
		}
	case *ast.CallNode:
		callee, ok := n.Callee.(*ast.ConstantNode)
		if !ok || len(n.Arguments) != 1 {
			return nil
		}
		if id, ok := n.Arguments[0].(*ast.IdentifierNode); !ok || id.Value != "$env" {
			return nil
		}
		if f, ok := callee.Value.(func(any) bool); ok {
			return func(e *Env) bool { return f(e) }
		}
	}
	return nil
}

// evalDirect evaluates p.direct against env. done is false when a predicate
// panicked with something other than an *Error: the caller then runs the VM
// program, which turns that panic into its error.
func (p *Program) evalDirect(env *Env) (ok, done bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			if qe, isQE := r.(*Error); isQE {
				ok, done, err = false, true, qe
				return
			}
			ok, done, err = false, false, nil
		}
	}()
	return p.direct(env), true, nil
}
