package engine

import "runtime/debug"

// version is set at link time:
//
//	go build -ldflags "-X github.com/ruleflow/ruleflow/engine.version=v1.2.3" ./cmd/ruleflow
//
// It is written only by the linker.
var version string

// Version is the ruleflow version: the one `ruleflow version` prints and callouts
// send as User-Agent: ruleflow/<version>. It is, in order, the version set with
// -ldflags (see above), the main module's version from the build information (go
// install module@v1.2.3), "dev-<revision>" from the VCS stamp (with "-dirty" when
// the tree was modified), or "dev".
func Version() string {
	bi, _ := debug.ReadBuildInfo()
	return versionOf(version, bi)
}

// versionOf picks the version from the link-time value and the build information.
func versionOf(linked string, bi *debug.BuildInfo) string {
	if linked != "" {
		return linked
	}
	if bi == nil {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "dev-" + rev
}
