package qualification_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/ruleflow/ruleflow/qualification"
)

func ExampleCompile() {
	schema, err := qualification.NewSchema("Ticket", []qualification.Field{
		{Name: "Status", ID: 7, Type: qualification.Selection, Options: []string{"New", "In Progress", "Resolved", "Closed"}},
		{Name: "Priority", ID: 9, Type: qualification.Integer},
	})
	if err != nil {
		panic(err)
	}
	prog, err := qualification.Compile(`'Status' < "Resolved" AND 'TR.Priority' >= 2`, qualification.Options{Schema: schema})
	if err != nil {
		panic(err)
	}
	env := qualification.NewEnv(&qualification.Input{
		Operation: "update",
		Before:    map[string]any{"Status": "New", "Priority": int64(1)},
		After:     map[string]any{"Status": "In Progress", "Priority": int64(3)},
		Now:       time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
	})
	ok, err := prog.Eval(env)
	fmt.Println(ok, err)
	// Output: true <nil>
}

func ExampleCompile_error() {
	_, err := qualification.Compile(`'Assignee Login ID' = "jsmith" AND 'Status' < 4`, qualification.Options{
		Schema: func() *qualification.Schema {
			s, _ := qualification.NewSchema("Ticket", []qualification.Field{{Name: "Status", Type: qualification.Selection, Options: []string{"New", "Closed"}}})
			return s
		}(),
	})
	// err is an ErrorList; its Error shows the first error and the count, so
	// print each one.
	var list qualification.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Println(e)
		}
	}
	// Output:
	// qualification:1:1: unknown field 'Assignee Login ID'
	// 'Assignee Login ID' = "jsmith" AND 'Status' < 4
	// ^
	// qualification:1:47: selection index 4 out of range for field 'Status' (0 to 1)
	// 'Assignee Login ID' = "jsmith" AND 'Status' < 4
	//                                               ^
}
