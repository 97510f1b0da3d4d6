// Package qualification implements the BMC Remedy AR System qualification
// language that ruleflow rules are written in: a hand-written lexer (Lex), a
// recursive-descent parser (Parse) producing an exported syntax tree (Node),
// binding to an optional form Schema, and compilation (Compile) to an
// expr-lang program that is evaluated many times, concurrently.
//
// A Program is compiled once per rule condition:
//
//	prog, err := qualification.Compile(`'Status' = "Complete" AND 'TR.Status' != $NULL$`,
//		qualification.Options{Schema: schema, Location: loc})
//
// Every event is prepared once with NewEnv and then evaluated against all the
// programs of its form:
//
//	env := qualification.NewEnv(&qualification.Input{Operation: "update", Before: before, After: after, Now: t})
//	ok, err := prog.Eval(env)
//
// Field references resolve when compiling (by name, numeric ID, TR./DB.
// prefix or $Field$) to field names, so an Env holds records keyed by field
// name and does not depend on the schema. Errors are *Error values (Parse) or an
// ErrorList of them (Compile) that print as "qualification:LINE:COL: message"
// followed by the source line and a caret. ErrorList follows go/scanner: Err
// returns the list or nil, Error shows the first error and the count.
//
// Evaluation follows design §3: plain references read the values after the
// transaction (before it on delete), TR. references only values set in the
// transaction, DB. references the stored values; NULL compares as "" or 0 in
// the Workflow mode and makes comparisons false in the Search mode.
package qualification
