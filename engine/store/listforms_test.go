package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testListForms: Filter.Forms selects the jobs of any of its forms (a form and its
// former names), combined with the other conditions.
func testListForms(t *testing.T, open opener) {
	s, _ := open(t)
	forms := []string{"HPD:Incident", "HPD:Help Desk", "Ticket", "HPD:Old"}
	var jobs []Job
	for i, f := range forms {
		j := callout(fmt.Sprintf("dlv_%02d", i))
		j.Form = f
		jobs = append(jobs, j)
	}
	mustEnqueue(t, s, jobs...)
	for _, tc := range []struct {
		name string
		f    Filter
		want []string
	}{
		{"three names", Filter{Forms: []string{"HPD:Incident", "HPD:Help Desk", "HPD:Old"}}, []string{"dlv_00", "dlv_01", "dlv_03"}},
		{"one name", Filter{Forms: []string{"Ticket"}}, []string{"dlv_02"}},
		{"with after", Filter{Forms: []string{"HPD:Incident", "HPD:Help Desk", "HPD:Old"}, After: "dlv_00"}, []string{"dlv_01", "dlv_03"}},
		{"none", Filter{Forms: []string{"Other"}}, nil},
	} {
		got, err := s.List(context.Background(), tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, j := range got {
			ids = append(ids, j.ID)
		}
		if diff := cmp.Diff(tc.want, ids); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}
