// Command ruleflow checks configurations, evaluates qualifications, replays
// events and runs the rule engine as a service. See `ruleflow help`.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
