package rollout

import (
	"context"
	"errors"
	"strings"
)

// Rancher is one environment's Rancher API as the engine uses it. An
// adapter over the typed client implements it; tests use fakes and the lab.
type Rancher interface {
	// Services lists every service of the environment (following pagination),
	// with Stack set to the stack's name.
	Services(ctx context.Context) ([]Service, error)
	// Service re-reads one service by id.
	Service(ctx context.Context, id string) (Service, error)
	// Hosts lists the environment's hosts.
	Hosts(ctx context.Context) ([]Host, error)
	// Upgrade starts an in-service upgrade: the current launch config is sent
	// back unchanged except the image (and the named sidekicks' images).
	Upgrade(ctx context.Context, id string, u Upgrade) (Service, error)
	// FinishUpgrade and Rollback start those actions.
	FinishUpgrade(ctx context.Context, id string) (Service, error)
	Rollback(ctx context.Context, id string) (Service, error)
	// Wait returns the first observed state of the service for which done
	// returns true. It returns an error wrapping ctx.Err() when ctx ends; it
	// may return other (transient) errors, which the engine retries.
	Wait(ctx context.Context, id string, done func(Service) bool) (Service, error)
}

// Presence reports whether a host holds an image: inspect of img.Ref succeeds
// and, when img.Digest is set, its RepoDigests contain img.DigestRef() (the
// check prewarm status makes). An error means the host could not be asked;
// one wrapping ErrNoPlatform or ErrRefused closes the gate at once (no wait
// changes it), ErrNotInInventory marks the host (Missing).
type Presence interface {
	Present(ctx context.Context, env string, h Host, img Image) (bool, error)
}

// Puller pulls an image onto a host (used by the gate with --prewarm).
type Puller interface {
	Pull(ctx context.Context, env string, h Host, img Image) error
}

// Service is the engine's view of a Rancher service.
type Service struct {
	ID                   string            `json:"id"`
	Stack                string            `json:"stack"`
	Name                 string            `json:"name"`
	State                string            `json:"state"`
	HealthState          string            `json:"healthState"`
	Transitioning        string            `json:"transitioning,omitempty"` // yes, no, error
	TransitioningMessage string            `json:"transitioningMessage,omitempty"`
	Scale                int               `json:"scale"`
	Image                string            `json:"image"`               // launchConfig.imageUuid without "docker:"
	Sidekicks            map[string]string `json:"sidekicks,omitempty"` // secondary launch config name -> image
	// Labels are the primary launch config's labels (scheduling rules).
	Labels map[string]string `json:"labels,omitempty"`
	// HostPorts are the primary launch config's published host ports
	// ("8080:80/tcp"): at most one container per host can hold each.
	HostPorts []string `json:"hostPorts,omitempty"`
	// PreviousImage and PreviousSidekicks come from the last upgrade's
	// previousLaunchConfig ("" when the service was never upgraded).
	PreviousImage     string            `json:"previousImage,omitempty"`
	PreviousSidekicks map[string]string `json:"previousSidekicks,omitempty"`
	// NewUnits counts units already running the new launch config during an
	// upgrade, when the adapter knows it; -1 when it does not.
	NewUnits int `json:"-"`
}

// Key is "stack/name".
func (s Service) Key() string { return s.Stack + "/" + s.Name }

// Pending reports whether an upgrade is waiting for finish or rollback.
func (s Service) Pending() bool {
	return s.State == StateUpgraded || s.State == StateUpgrading || s.State == StateCanceledUpgrade
}

// Busy reports whether the service is in a transitional state.
func (s Service) Busy() bool {
	if s.Transitioning == "yes" {
		return true
	}
	switch s.State {
	case "activating", "deactivating", StateUpgrading, "finishing-upgrade", "rolling-back",
		"canceling-upgrade", "restarting", "removing", "updating-active", "updating-inactive", "registering":
		return true
	}
	return false
}

// Service states the engine branches on.
const (
	StateActive          = "active"
	StateInactive        = "inactive"
	StateUpgrading       = "upgrading"
	StateUpgraded        = "upgraded"
	StateCanceledUpgrade = "canceled-upgrade"
	HealthHealthy        = "healthy"
	// HealthStartedOnce is Cattle's health of a service whose containers
	// run once and exit (label io.rancher.container.start_once): they
	// never read "healthy" (ServiceDiscoveryServiceImpl.calculateServiceHealthState).
	HealthStartedOnce = "started-once"
	// LabelStartOnce marks a launch config whose containers run once.
	LabelStartOnce = "io.rancher.container.start_once"
)

// verifiedHealth reports whether x's health counts as verified: "healthy",
// or "started-once" for a service whose primary launch config runs once
// (label io.rancher.container.start_once: true, read as Cattle does, in any
// case). A long-running service never counts as verified by started-once.
func verifiedHealth(x Service) bool {
	return x.HealthState == HealthHealthy ||
		x.HealthState == HealthStartedOnce && strings.EqualFold(x.Labels[LabelStartOnce], "true")
}

// Host is a Rancher host.
type Host struct {
	ID      string            `json:"id"`
	Name    string            `json:"name"` // hostname
	AgentIP string            `json:"agentIp,omitempty"`
	State   string            `json:"state"` // as the API reports it (agentState folded in)
	Labels  map[string]string `json:"labels,omitempty"`
}

// Upgrade is what the engine asks of Rancher's upgrade action.
type Upgrade struct {
	Strategy  Strategy
	Image     string            // deploy ref; imageUuid becomes "docker:"+Image
	Sidekicks map[string]string // secondary launch config name -> deploy ref
}

// Strategy is the inServiceStrategy sent (with the launch configs).
type Strategy struct {
	BatchSize      int  `json:"batchSize"`
	IntervalMillis int  `json:"intervalMillis"`
	StartFirst     bool `json:"startFirst"`
	// StartFirstServices insist on StartFirst even with a published host
	// port and no spare host (pre-flight then refuses); others upgrade
	// stop-first in that case. Not sent to Rancher.
	StartFirstServices []string `json:"startFirstServices,omitempty"`
}

// Image is an image to deploy, by the reference hosts know it as.
type Image struct {
	// Ref is the deploy reference, "<region registry>/<repository>:<tag>".
	Ref string `json:"ref"`
	// Digest is the manifest digest from the lock; "" when unknown (one-off
	// --service overrides, rollback to a previous image): presence is then
	// checked by Ref alone.
	Digest string `json:"digest,omitempty"`
}

// DigestRef is "<registry>/<repository>@<digest>" ("" without a digest).
func (i Image) DigestRef() string {
	if i.Digest == "" {
		return ""
	}
	return repoOf(i.Ref) + "@" + i.Digest
}

// repoOf strips a tag and/or digest from a reference.
func repoOf(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}

// Sentinels adapters wrap so the engine can decide without knowing the client.
var (
	// ErrRejected: Rancher refused the request (a 4xx); the engine never
	// retries it blindly.
	ErrRejected = errors.New("rejected by rancher")
	// ErrActionNotAvailable: the action is not allowed in the current state
	// (422 ActionNotAvailable). Adapters wrap it together with ErrRejected.
	ErrActionNotAvailable = errors.New("action not available")
	// ErrNotFound: no such service, stack or project.
	ErrNotFound = errors.New("not found")
	// ErrNoPlatform: a host can never hold the image as locked (its index
	// has no entry for the host's platform, e.g. another Windows build).
	// Presence adapters wrap it; the gate then closes at once, since no
	// wait and no pull brings that image.
	ErrNoPlatform = errors.New("no image for the host's platform")
	// ErrNotInInventory: Rancher runs a service on a host the inventory
	// does not list, so no prewarm command (and no --prewarm pull) reaches
	// it. Presence adapters wrap it; the gate leaves the host out of the
	// commands it prints (Missing.NotInInventory).
	ErrNotInInventory = errors.New("host not in the inventory")
	// ErrRefused: Rancher refused access to a host's Docker API in a way
	// no wait changes (the key's role lacks what reaching the host needs,
	// the relay refused its token, or the relay's URL is unencrypted for
	// an https server). Presence adapters wrap it; the gate then closes at
	// once, since no wait and no pull changes a key's role or Rancher's
	// configuration.
	ErrRefused = errors.New("rancher refused access to the host")
)
