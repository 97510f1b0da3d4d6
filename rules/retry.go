package rules

import "time"

// The retry defaults, the one set every package uses (Autotask seed: "resend the
// callout every 60 seconds for up to 10 times"). Parse applies them to a callout's
// retry block; callouts.PolicyFor to a Retry built in code.
const (
	DefaultRetryInterval    = 60 * time.Second
	DefaultRetryMax         = 10
	DefaultRetryMaxInterval = time.Hour // the cap of exponential backoff
	// MinRetryInterval is the shortest retry interval a callout may configure.
	MinRetryInterval = time.Second
)

// Backoff is how the delay between a callout's attempts grows: the value of its
// retry block's backoff key.
type Backoff string

// The backoffs; the zero value means BackoffFixed.
const (
	BackoffFixed       Backoff = "fixed"       // every interval
	BackoffExponential Backoff = "exponential" // interval·2^(n-1), capped at max_interval, with equal jitter
)
