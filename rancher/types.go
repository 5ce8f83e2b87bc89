package rancher

import (
	"encoding/json"
	"regexp"
)

// Resource holds the fields every Rancher resource has. Null fields decode
// as zero values.
type Resource struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	BaseType string `json:"baseType"`
	Name     string `json:"name"`
	State    string `json:"state"`
	// AccountID is the id of the project the resource belongs to.
	AccountID string            `json:"accountId"`
	UUID      string            `json:"uuid"`
	Created   string            `json:"created"`
	Links     map[string]string `json:"links"`
	// Actions maps each action allowed in the current state to its URL.
	Actions map[string]string `json:"actions"`
	// Transitioning is "yes" in a transitional state, "error" when the
	// process failed (TransitioningMessage says why), else "no".
	Transitioning         string `json:"transitioning"`
	TransitioningMessage  string `json:"transitioningMessage"`
	TransitioningProgress int    `json:"transitioningProgress"`
}

// Transitioning values.
const (
	TransitioningYes   = "yes"
	TransitioningNo    = "no"
	TransitioningError = "error"
)

// Service states an in-service upgrade goes through.
const (
	StateActive           = "active"
	StateInactive         = "inactive"
	StateActivating       = "activating"
	StateUpgrading        = "upgrading"
	StateUpgraded         = "upgraded"
	StateFinishingUpgrade = "finishing-upgrade"
	StateRollingBack      = "rolling-back"
	StateCancelingUpgrade = "canceling-upgrade"
	StateCanceledUpgrade  = "canceled-upgrade"
	StateRemoved          = "removed"
)

// Service is a Rancher service. LaunchConfig and SecondaryLaunchConfigs are
// kept as raw JSON objects so that an upgrade can send them back whole.
type Service struct {
	Resource
	Kind         string `json:"kind"`
	StackID      string `json:"stackId"`
	HealthState  string `json:"healthState"`
	Scale        int    `json:"scale"`
	CurrentScale int    `json:"currentScale"`
	// LaunchConfig is the primary container's config (nil for kinds
	// without one).
	LaunchConfig *LaunchConfig `json:"launchConfig"`
	// SecondaryLaunchConfigs are the sidekicks; each has a "name".
	SecondaryLaunchConfigs []*LaunchConfig `json:"secondaryLaunchConfigs"`
	// Upgrade is the last upgrade, left in place after finish or rollback.
	Upgrade *ServiceUpgrade `json:"upgrade"`
	// InstanceIDs includes old containers an upgrade stopped and has not
	// removed yet.
	InstanceIDs []string `json:"instanceIds"`
}

// Image returns the primary container's image reference (imageUuid without
// "docker:"), or "".
func (s *Service) Image() string {
	if s == nil || s.LaunchConfig == nil {
		return ""
	}
	return s.LaunchConfig.Image()
}

// Sidekick returns the secondary launch config with that name, or nil.
func (s *Service) Sidekick(name string) *LaunchConfig {
	for _, lc := range s.SecondaryLaunchConfigs {
		if lc != nil && lc.Name() == name {
			return lc
		}
	}
	return nil
}

// ServiceUpgrade is the body of the upgrade action and, read back, the last
// upgrade of a service.
type ServiceUpgrade struct {
	InServiceStrategy *InServiceStrategy `json:"inServiceStrategy,omitempty"`
	// ToServiceStrategy is not used by this package; kept raw.
	ToServiceStrategy json.RawMessage `json:"toServiceStrategy,omitempty"`
}

// InServiceStrategy is Rancher's inServiceUpgradeStrategy. The previous*
// fields are filled by the server.
type InServiceStrategy struct {
	BatchSize                      int             `json:"batchSize,omitempty"`
	IntervalMillis                 int             `json:"intervalMillis,omitempty"`
	StartFirst                     bool            `json:"startFirst"`
	LaunchConfig                   *LaunchConfig   `json:"launchConfig,omitempty"`
	SecondaryLaunchConfigs         []*LaunchConfig `json:"secondaryLaunchConfigs,omitempty"`
	PreviousLaunchConfig           *LaunchConfig   `json:"previousLaunchConfig,omitempty"`
	PreviousSecondaryLaunchConfigs []*LaunchConfig `json:"previousSecondaryLaunchConfigs,omitempty"`
}

// Host is a Docker host registered in a project.
type Host struct {
	Resource
	Kind           string            `json:"kind"`
	Hostname       string            `json:"hostname"`
	AgentIPAddress string            `json:"agentIpAddress"`
	AgentState     string            `json:"agentState"`
	Labels         map[string]string `json:"labels"`
	DockerVersion  string            `json:"dockerVersion"`
	InstanceIDs    []string          `json:"instanceIds"`
	// Info is what the host's agent reports about it (nil when absent).
	Info *HostInfo `json:"info"`
}

// Active reports whether the host runs new containers: state active and
// the agent not in another state. (The API already reports an agent state
// such as "disconnected" as the host's state; this also checks agentState.)
func (h *Host) Active() bool {
	return h.State == StateActive && (h.AgentState == "" || h.AgentState == StateActive)
}

// Stack is a Rancher stack (v1: "environment").
type Stack struct {
	Resource
	Kind        string   `json:"kind"`
	HealthState string   `json:"healthState"`
	ServiceIDs  []string `json:"serviceIds"`
}

// Project is a Rancher environment.
type Project struct {
	Resource
	Description   string `json:"description"`
	Orchestration string `json:"orchestration"`
	HealthState   string `json:"healthState"`
}

// Instance is a container.
type Instance struct {
	Resource
	Kind             string            `json:"kind"`
	HostID           string            `json:"hostId"`
	ImageUUID        string            `json:"imageUuid"`
	HealthState      string            `json:"healthState"`
	PrimaryIPAddress string            `json:"primaryIpAddress"`
	ExternalID       string            `json:"externalId"`
	StartCount       int               `json:"startCount"`
	ServiceIDs       []string          `json:"serviceIds"`
	Labels           map[string]string `json:"labels"`
}

// Event is one message of the subscribe websocket.
type Event struct {
	ID           string     `json:"id"`
	Name         string     `json:"name"`
	ResourceType string     `json:"resourceType"`
	ResourceID   string     `json:"resourceId"`
	Time         int64      `json:"time"`
	Data         *EventData `json:"data"`
}

// EventData carries the changed resource of a resource.change event.
type EventData struct {
	Resource json.RawMessage `json:"resource"`
}

type collection[T any] struct {
	Type         string `json:"type"`
	ResourceType string `json:"resourceType"`
	Data         []T    `json:"data"`
	Pagination   *struct {
		Next    string `json:"next"`
		Partial bool   `json:"partial"`
		Limit   int    `json:"limit"`
	} `json:"pagination"`
}

var projectIDRe = regexp.MustCompile(`^1a[0-9]+$`)

// projectOf returns the project of a resource: accountId, else the id in
// links.self ("/projects/<id>/"), else "".
func projectOf(r *Resource) string {
	if r.AccountID != "" {
		return r.AccountID
	}
	if m := projectInPath.FindStringSubmatch(r.Links["self"]); m != nil {
		return m[1]
	}
	return ""
}

var projectInPath = regexp.MustCompile(`/projects/([^/?]+)/`)
