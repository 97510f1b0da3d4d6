package notify

import (
	"fmt"
	htmltemplate "html/template"
	"io"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
	"time"
)

// MaxTemplateSteps bounds the steps of one rendering of a notification: every
// {{range}} iteration and every {{template}} call, counted over all its parts
// (subject, text, HTML) and every nesting level. MaxRenderedBytes bounds what a
// template writes; this bounds what it does without writing, such as
// {{range 1000000000000}}{{end}} or a template that calls itself twice, which would
// otherwise run for hours inside a delivery worker.
const MaxTemplateSteps = 100_000

// MaxRenderTime bounds the wall-clock time of one rendering, checked at every step:
// each step may still do bounded work (a printf of a megabyte), and a hundred
// thousand such steps must not hold a worker either.
// It is a safety net far above what a sound template needs on a loaded machine, so
// that whether a template is accepted does not depend on the machine's load.
const MaxRenderTime = 10 * time.Second

// The functions instrumented templates call. They are not among the functions a
// template may call by name: they exist only in the per-render copies.
const (
	rangeStepFunc = "ruleflowRangeStep"    // first in every range body
	callStepFunc  = "ruleflowTemplateStep" // first in every template of a set that has calls
)

// stepVar receives a step function's empty result, so that the call prints nothing
// in text/template and html/template leaves it alone (an assignment is not escaped).
const stepVar = "$ruleflowStep"

// renderBudget counts the steps and watches the clock of one Render.
type renderBudget struct {
	left            int
	start, deadline time.Time
}

func newRenderBudget(limit time.Duration) *renderBudget {
	now := time.Now()
	return &renderBudget{left: MaxTemplateSteps, start: now, deadline: now.Add(limit)}
}

// step is both step functions: it fails the execution once the budget is spent.
func (b *renderBudget) step() (string, error) {
	if b.left <= 0 {
		return "", fmt.Errorf("more than %d steps (range iterations and template calls)", MaxTemplateSteps)
	}
	b.left--
	if time.Now().After(b.deadline) {
		return "", fmt.Errorf("rendering took longer than %v", b.deadline.Sub(b.start))
	}
	return "", nil
}

func (b *renderBudget) funcs() map[string]any {
	return map[string]any{rangeStepFunc: b.step, callStepFunc: b.step}
}

// instrumentSet makes every range body of the trees call rangeStepFunc first and,
// when any tree calls a template, every tree call callStepFunc first. It reports
// whether it changed anything: a set without loops or calls runs in bounded time.
func instrumentSet(trees []*parse.Tree) bool {
	loops, calls := false, false
	for _, tree := range trees {
		if tree != nil && tree.Root != nil {
			l, c := instrumentList(tree, tree.Root)
			loops, calls = loops || l, calls || c
		}
	}
	if calls {
		for _, tree := range trees {
			if tree != nil && tree.Root != nil {
				tree.Root.Nodes = append([]parse.Node{stepCall(tree, callStepFunc, tree.Root.Pos)}, tree.Root.Nodes...)
			}
		}
	}
	return loops || calls
}

// instrumentList instruments the range bodies under list and reports whether it
// holds a range and a template call.
func instrumentList(tree *parse.Tree, list *parse.ListNode) (loops, calls bool) {
	if list == nil {
		return false, false
	}
	for _, n := range list.Nodes {
		var l, c bool
		switch n := n.(type) {
		case *parse.IfNode:
			l, c = instrumentBranch(tree, &n.BranchNode)
		case *parse.WithNode:
			l, c = instrumentBranch(tree, &n.BranchNode)
		case *parse.RangeNode:
			_, c = instrumentBranch(tree, &n.BranchNode)
			n.List.Nodes = append([]parse.Node{stepCall(tree, rangeStepFunc, n.Pos)}, n.List.Nodes...)
			l = true
		case *parse.TemplateNode:
			c = true
		}
		loops, calls = loops || l, calls || c
	}
	return loops, calls
}

func instrumentBranch(tree *parse.Tree, b *parse.BranchNode) (loops, calls bool) {
	l1, c1 := instrumentList(tree, b.List)
	l2, c2 := instrumentList(tree, b.ElseList)
	return l1 || l2, c1 || c2
}

// stepCall is the node {{$ruleflowStep := fn}}.
func stepCall(tree *parse.Tree, fn string, pos parse.Pos) *parse.ActionNode {
	ident := parse.NewIdentifier(fn).SetTree(tree).SetPos(pos)
	return &parse.ActionNode{
		NodeType: parse.NodeAction,
		Pos:      pos,
		Pipe: &parse.PipeNode{
			NodeType: parse.NodePipe,
			Pos:      pos,
			Decl:     []*parse.VariableNode{{NodeType: parse.NodeVariable, Pos: pos, Ident: []string{stepVar}}},
			Cmds:     []*parse.CommandNode{{NodeType: parse.NodeCommand, Pos: pos, Args: []parse.Node{ident}}},
		},
	}
}

// budgetMessage rewrites the executor's words for a spent budget, which name a
// hidden function, as the construct it stands for.
func budgetMessage(msg string) string {
	for fn, construct := range map[string]string{rangeStepFunc: "range", callStepFunc: "template"} {
		msg = strings.Replace(msg, "<"+fn+">: error calling "+fn+": ", "<"+construct+">: ", 1)
	}
	return msg
}

// template is what text/template and html/template have in common here.
type template interface {
	Name() string
	Execute(w io.Writer, data any) error
}

// bounded is a template whose loops and calls, if it has any, are bounded. A
// template with loops or calls is itself never executed: each render runs a copy
// that knows its own budget (html/template also refuses to copy a template once run).
type bounded struct {
	template
	steps    bool
	copyWith func(funcs map[string]any) (template, error) // a copy with funcs added
}

// execute runs the template against data, charging its steps to b.
func (t *bounded) execute(w io.Writer, data any, b *renderBudget) error {
	if !t.steps {
		return t.Execute(w, data)
	}
	c, err := t.copyWith(b.funcs())
	if err != nil {
		return err
	}
	return c.Execute(w, data)
}

// boundText instruments every template associated with t; nil stays nil.
func boundText(t *texttemplate.Template) *bounded {
	if t == nil {
		return nil
	}
	var trees []*parse.Tree
	for _, x := range t.Templates() {
		trees = append(trees, x.Tree)
	}
	return &bounded{template: t, steps: instrumentSet(trees), copyWith: func(funcs map[string]any) (template, error) {
		c, err := t.Clone()
		if err != nil {
			return nil, err
		}
		return c.Funcs(funcs), nil
	}}
}

// boundHTML instruments every template associated with h.
func boundHTML(h *htmltemplate.Template) *bounded {
	var trees []*parse.Tree
	for _, x := range h.Templates() {
		trees = append(trees, x.Tree)
	}
	return &bounded{template: h, steps: instrumentSet(trees), copyWith: func(funcs map[string]any) (template, error) {
		c, err := h.Clone()
		if err != nil {
			return nil, err
		}
		return c.Funcs(funcs), nil
	}}
}
