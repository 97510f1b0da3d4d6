package rules

import (
	"slices"
	"strings"
)

// freshworksRegions are the data-centre regions a Freshworks account lives in, as
// an external event's payload names them.
var freshworksRegions = []string{"US", "EU", "EUC", "AUS", "IND"}

// checkTargetRegion reports a target URL whose region is none of
// freshworksRegions. An empty region is allowed (the payload's region is then "").
func (d *decoder) checkTargetRegion(t *TargetURL) {
	if t.Region != "" && !slices.Contains(freshworksRegions, t.Region) {
		d.errAt(t, "region", "target URL %q: region %q is not one of %s", t.Name, t.Region, strings.Join(freshworksRegions, ", "))
	}
}
