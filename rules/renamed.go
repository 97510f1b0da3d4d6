package rules

import (
	"strconv"
	"strings"
)

// checkRenamedFrom checks the callouts' renamed_from lists against the callouts of
// the configuration (byName): a former name must not be empty, must not be the name
// of a callout still configured (its deliveries already have a callout), and may be
// claimed by one callout only, once.
func (d *decoder) checkRenamedFrom(cfg *Config, byName map[string]*Callout) {
	claimed := map[string]*Callout{}
	for _, c := range cfg.Callouts {
		for i, old := range c.RenamedFrom {
			path := "renamed_from[" + strconv.Itoa(i) + "]"
			first, taken := claimed[old]
			switch {
			case strings.TrimSpace(old) == "":
				d.errAt(c, path, "renamed_from entry must not be empty")
			case old == c.Name:
				d.errAt(c, path, "callout %q lists its own name in renamed_from", c.Name)
			case byName[old] != nil:
				d.errAt(c, path, "renamed_from %q names a callout that is still configured (line %d)", old, d.pos(d.node(byName[old], "name")).Line)
			case taken && first == c:
				d.errAt(c, path, "renamed_from lists %q twice", old)
			case taken:
				d.errAt(c, path, "renamed_from %q is already claimed by callout %q (line %d)", old, first.Name, d.pos(d.node(first, "name")).Line)
			default:
				claimed[old] = c
			}
		}
	}
}
