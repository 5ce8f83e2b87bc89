package registries

import "go.uber.org/goleak"

// IgnoreLeaks are goleak options for goroutines a closed Registry leaves
// behind by design of its implementation: distribution's App starts a
// notification broadcaster it never stops.
func IgnoreLeaks() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreTopFunction("github.com/docker/go-events.(*Broadcaster).run"),
	}
}
