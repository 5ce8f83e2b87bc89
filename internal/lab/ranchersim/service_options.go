package ranchersim

import (
	"errors"
	"fmt"
	"time"
)

// Label keys the simulator acts on.
const (
	// LabelPullImage set to "always" makes every container create pull the image.
	LabelPullImage = "io.rancher.container.pull_image"
	// LabelStartOnce set to "true" makes a container run once: it exits once it has
	// started and is not restarted; the service's healthState is then "started-once".
	LabelStartOnce = "io.rancher.container.start_once"
	// LabelHostAffinity restricts scheduling to hosts carrying all listed labels
	// ("key=value[,key=value...]").
	LabelHostAffinity = "io.rancher.scheduler.affinity:host_label"
)

// ServiceOption configures a service created with [Project.AddService].
type ServiceOption func(*serviceConfig) error

type serviceConfig struct {
	labels       map[string]string
	sidekicks    []sidekickSpec
	healthCheck  map[string]any
	neverHealthy []string
	retainIP     bool
	ports        []any
	extra        map[string]any
}

type sidekickSpec struct{ name, image string }

// WithLabels adds launch config labels (scheduling labels such as
// [LabelHostAffinity] included).
func WithLabels(labels map[string]string) ServiceOption {
	return func(c *serviceConfig) error {
		for k, v := range labels {
			if k == "" {
				return errors.New("WithLabels: empty label key")
			}
			c.labels[k] = v
		}
		return nil
	}
}

// WithPullAlways sets io.rancher.container.pull_image=always on the launch config.
func WithPullAlways() ServiceOption {
	return func(c *serviceConfig) error {
		c.labels[LabelPullImage] = "always"
		return nil
	}
}

// WithSidekick adds a secondary launch config (a sidekick) named name running image.
func WithSidekick(name, image string) ServiceOption {
	return func(c *serviceConfig) error {
		if name == "" || image == "" {
			return errors.New("WithSidekick: name and image required")
		}
		for _, s := range c.sidekicks {
			if s.name == name {
				return fmt.Errorf("WithSidekick: duplicate sidekick %q", name)
			}
		}
		c.sidekicks = append(c.sidekicks, sidekickSpec{name, image})
		return nil
	}
}

// WithHealthCheck adds a healthCheck to the launch config (and to every sidekick's).
// A new container stays "initializing" for interval x healthyThreshold, then turns
// "healthy". Without it containers have no health check and count as healthy while
// running.
func WithHealthCheck(interval time.Duration, healthyThreshold int) ServiceOption {
	return func(c *serviceConfig) error {
		if interval < time.Millisecond || healthyThreshold < 1 {
			return fmt.Errorf("WithHealthCheck: interval %v and threshold %d must be positive", interval, healthyThreshold)
		}
		c.healthCheck = map[string]any{
			"type":                  "instanceHealthCheck",
			"healthyThreshold":      healthyThreshold,
			"initializingTimeout":   60000,
			"interval":              interval.Milliseconds(),
			"port":                  80,
			"reinitializingTimeout": 60000,
			"responseTimeout":       2000,
			"strategy":              "none",
			"unhealthyThreshold":    3,
		}
		return nil
	}
}

// WithNeverHealthy is a fault: containers of this service whose image reference
// matches one of the glob patterns ('*' matches any run of characters, '/' and ':'
// included) stay "initializing" forever, with or without a health check. An upgrade
// to such an image hangs in "upgrading" (health waits time out and are retried).
func WithNeverHealthy(patterns ...string) ServiceOption {
	return func(c *serviceConfig) error {
		if len(patterns) == 0 {
			return errors.New("WithNeverHealthy: no pattern")
		}
		c.neverHealthy = append(c.neverHealthy, patterns...)
		return nil
	}
}

// WithPorts sets the launch config's ports as Cattle spells them:
// "[IP:]PUBLIC:PRIVATE[/PROTOCOL]" publishes a host port, which a container holds on
// its host while it runs (so under startFirst a new container cannot join an old one
// on its host: the upgrade shows transitioning "error", "host needs ports ...
// available", and retries until a host has the port free); "PRIVATE[/PROTOCOL]"
// publishes a random host port and holds nothing.
func WithPorts(ports ...string) ServiceOption {
	return func(c *serviceConfig) error {
		for _, p := range ports {
			if _, _, err := parsePort(p); err != nil {
				return fmt.Errorf("WithPorts: %w", err)
			}
			c.ports = append(c.ports, p)
		}
		return nil
	}
}

// WithRetainIP sets the service's retainIp field (startFirst upgrades are then refused).
func WithRetainIP() ServiceOption {
	return func(c *serviceConfig) error {
		c.retainIP = true
		return nil
	}
}

// WithLaunchConfigField sets an arbitrary launch config field, for example one a client
// does not model, to check that it is sent back unchanged on upgrade.
func WithLaunchConfigField(key string, value any) ServiceOption {
	return func(c *serviceConfig) error {
		switch key {
		case "", "imageUuid", "version", "labels", "healthCheck", "ports":
			return fmt.Errorf("WithLaunchConfigField: %q cannot be set this way", key)
		}
		c.extra[key] = value
		return nil
	}
}
