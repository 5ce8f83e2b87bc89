package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/drover-dev/drover/inventory"
)

// Option configures Pull, Status, Check, Seed and Prune.
type Option func(*options) error

type options struct {
	platforms       *HostPlatforms
	concurrency     int
	registryLimit   int
	registryMax     map[string]int
	timeout         time.Duration
	retries         int
	backoff         Backoff
	fallback        string
	auth            AuthFunc
	dial            DialFunc
	progress        func(Progress)
	logger          *slog.Logger
	now             func() time.Time
	gate            RegionGate
	deployed        *Deployed
	includeRollback bool
	prune           PruneCommand
	pruneCheck      PruneCheck
}

// WithDeployed gives Prune what the environment runs (RancherDeployed,
// plus rollout's journal's images as Previous when there is one): its
// images are ordered by it and the rollback images kept. The default
// orders by creation time alone.
func WithDeployed(d *Deployed) Option {
	return func(o *options) error { o.deployed = d; return nil }
}

// WithPruneCommand sets the command a full disk's error (NoSpaceError)
// offers to free space on an environment's hosts; cmd/prewarm gives the
// one that runs as printed (its -c and -f). The default is
// "prewarm prune --env ENV --repo REPOSITORY".
func WithPruneCommand(f PruneCommand) Option {
	return func(o *options) error {
		if f == nil {
			return errors.New("nil prune command")
		}
		o.prune = f
		return nil
	}
}

// WithPruneCheck sets how a full disk's error (NoSpaceError) learns what
// the prune it offers would free on the host: a dry run of that very
// prune (cmd/prewarm's runs prewarm prune's own selection). When it says
// nothing would go, the error says that nothing can be pruned safely and
// how much space the image needs, instead of offering the prune. The
// default is none: the prune is offered unchecked.
func WithPruneCheck(f PruneCheck) Option {
	return func(o *options) error {
		if f == nil {
			return errors.New("nil prune check")
		}
		o.pruneCheck = f
		return nil
	}
}

// WithIncludeRollback lets Prune remove the images a Rancher rollback
// would need (WithDeployed's Previous) like any other previous image. The
// default keeps them.
func WithIncludeRollback(include bool) Option {
	return func(o *options) error { o.includeRollback = include; return nil }
}

// RegionGate waits until a host's region registry is ready to pull from;
// an error fails the region's hosts without pulling (it should name the
// region, e.g. "region eu unreachable: ...").
type RegionGate func(ctx context.Context, region string) error

// WithRegionGate makes each host wait for gate before it takes a
// concurrency slot, so hosts of a region that is ready pull at once while
// another region is still being mirrored, and hosts of a region that
// failed are reported not ready without waiting out the pull timeout. Run
// sets its own gate from the mirror. The default is no gate.
func WithRegionGate(gate RegionGate) Option {
	return func(o *options) error { o.gate = gate; return nil }
}

// Backoff returns how long to wait before retry number attempt (1-based).
type Backoff func(attempt int) time.Duration

// DefaultBackoff doubles from 2s up to 30s, with up to 25% jitter.
func DefaultBackoff(attempt int) time.Duration {
	d := 2 * time.Second << min(attempt-1, 4)
	d = min(d, 30*time.Second)
	return d + rand.N(d/4+1) //nolint:gosec // jitter, not security
}

// CheckOptions returns what opts refuse (errors.Join), as Pull would,
// without doing anything: a caller that does other work before it pulls
// (prewarm.Run mirrors first) refuses bad options before it starts.
func CheckOptions(opts ...Option) error {
	_, err := newOptions(opts)
	return err
}

// The defaults of the host commands' bounds: the options start from them,
// and prewarm's flags show them. Each is the one definition of its value.
const (
	// DefaultConcurrency bounds the hosts worked on at once, when the
	// inventory's pull.concurrency (per environment, summed) does not.
	DefaultConcurrency = 32
	// DefaultRegistryLimit bounds the pulls from one registry.
	DefaultRegistryLimit = 8
	// DefaultTimeout bounds each host call and pull attempt: the
	// inventory's pull.timeout default.
	DefaultTimeout = inventory.DefaultPullTimeout
	// DefaultRetries is the retries of a failed pull.
	DefaultRetries = 3
)

func newOptions(opts []Option) (*options, error) {
	o := &options{
		platforms:     NewHostPlatforms(),
		concurrency:   DefaultConcurrency,
		registryLimit: DefaultRegistryLimit,
		registryMax:   map[string]int{},
		timeout:       DefaultTimeout,
		retries:       DefaultRetries,
		backoff:       DefaultBackoff,
		dial:          Dial,
		prune:         defaultPruneCommand,
		logger:        slog.New(slog.DiscardHandler),
		now:           time.Now,
	}
	var errs []error
	for _, opt := range opts {
		if err := opt(o); err != nil {
			errs = append(errs, err)
		}
	}
	dial := o.dial
	o.dial = func(ctx context.Context, host Target) (Engine, error) {
		if host.NotActive != nil { // Rancher says it is not active: never dialled
			return nil, &HostError{Host: host.Name, Env: host.Env, Err: host.NotActive}
		}
		return dial(ctx, host)
	}
	return o, errors.Join(errs...)
}

// WithHostPlatforms shares c between calls, so each host's /info is read
// once for all of them (a rollout's gate checks each image of each host in
// its own call). The default reads it once per call (Pull, Status, Check).
func WithHostPlatforms(c *HostPlatforms) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("host platforms is nil")
		}
		o.platforms = c
		return nil
	}
}

// WithConcurrency bounds how many hosts are worked on at once. The default is 32.
func WithConcurrency(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("concurrency %d: want at least 1", n)
		}
		o.concurrency = n
		return nil
	}
}

// WithRegistryLimit bounds concurrent pulls from any one registry, shared by
// all hosts pulling from it. The default is 8.
func WithRegistryLimit(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("registry limit %d: want at least 1", n)
		}
		o.registryLimit = n
		return nil
	}
}

// WithRegistryLimits sets per-registry limits by address (see
// RegistryLimits), overriding WithRegistryLimit for those registries.
func WithRegistryLimits(m map[string]int) Option {
	return func(o *options) error {
		for addr, n := range m {
			if n < 1 {
				return fmt.Errorf("registry %s limit %d: want at least 1", addr, n)
			}
			o.registryMax[addr] = n
		}
		return nil
	}
}

// WithTimeout bounds each call to a host and each pull attempt of one
// image on one host. The default is 30 minutes.
func WithTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("timeout %v: want > 0", d)
		}
		o.timeout = d
		return nil
	}
}

// WithRetries sets how many times a failed pull is retried (0 = never).
// Unauthorized, not-found and verification failures are not retried.
// The default is 3.
func WithRetries(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("retries %d: want >= 0", n)
		}
		o.retries = n
		return nil
	}
}

// WithBackoff sets the wait before each retry. The default is DefaultBackoff.
func WithBackoff(b Backoff) Option {
	return func(o *options) error {
		if b == nil {
			return errors.New("backoff: nil")
		}
		o.backoff = b
		return nil
	}
}

// WithFallbackSource lets a host pull from registry (the source, an
// address) when its region's registry lacks the digest. The image is still
// tagged with the region's deploy reference. The default is no fallback.
func WithFallbackSource(registry string) Option {
	return func(o *options) error {
		if registry == "" {
			return errors.New("fallback source: empty address")
		}
		o.fallback = registry
		return nil
	}
}

// WithAuth sets how registry credentials are found. The default is anonymous.
func WithAuth(f AuthFunc) Option {
	return func(o *options) error {
		if f == nil {
			return errors.New("auth: nil")
		}
		o.auth = f
		return nil
	}
}

// WithDial sets how hosts are connected to. The default is Dial.
func WithDial(f DialFunc) Option {
	return func(o *options) error {
		if f == nil {
			return errors.New("dial: nil")
		}
		o.dial = f
		return nil
	}
}

// WithProgress receives progress events. The default is none.
func WithProgress(f func(Progress)) Option {
	return func(o *options) error {
		if f == nil {
			return errors.New("progress: nil")
		}
		o.progress = f
		return nil
	}
}

// WithLogger sets the logger. The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("logger: nil")
		}
		o.logger = l
		return nil
	}
}

func (o *options) limitFor(registry string) int {
	if n, ok := o.registryMax[registry]; ok {
		return n
	}
	return o.registryLimit
}
