package rancher

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Action POSTs action on the resource r to the URL listed in r.Actions, with
// body as JSON (nil: no body), and decodes the answer (202 Accepted: the
// resource, already in its transitional state) into out (nil: discarded).
//
// An action missing from r.Actions is not sent at once: r may be stale, so
// the resource is re-read once through its self link; if the fresh actions
// map still lacks it, Action returns an *ActionError (matching
// ErrActionNotAvailable) without POSTing. The server's own refusal is an
// *APIError that matches ErrActionNotAvailable too.
func (c *Client) Action(ctx context.Context, r *Resource, action string, body, out any) error {
	link := r.Actions[action]
	if link == "" {
		self, err := c.selfURL(r, r.Type+"s")
		if err != nil {
			return fmt.Errorf("%s %s %s: %w", action, r.Type, r.ID, err)
		}
		var fresh Resource
		if err := c.call(ctx, http.MethodGet, self, nil, &fresh); err != nil {
			return fmt.Errorf("%s %s %s: re-read: %w", action, r.Type, r.ID, err)
		}
		link = fresh.Actions[action]
		if link == "" {
			return &ActionError{Action: action, ResourceType: r.Type, ResourceID: r.ID, State: fresh.State}
		}
	}
	u, err := c.resolve(link)
	if err != nil {
		return fmt.Errorf("%s %s %s: %w", action, r.Type, r.ID, err)
	}
	if err := c.call(ctx, http.MethodPost, u, body, out); err != nil {
		return fmt.Errorf("%s %s %s: %w", action, r.Type, r.ID, err)
	}
	return nil
}

// serviceAction runs an action without input on a service.
func (c *Client) serviceAction(ctx context.Context, svc *Service, action string) (*Service, error) {
	var out Service
	if err := c.Action(ctx, &svc.Resource, action, nil, &out); err != nil {
		return nil, nameErr(svc, err)
	}
	return &out, nil
}

// nameErr adds the service's name to an error that names only its id.
func nameErr(svc *Service, err error) error {
	if svc.Name == "" {
		return err
	}
	return fmt.Errorf("service %s: %w", svc.Name, err)
}

// FinishUpgrade finishes an upgrade (from upgraded; removes the old
// containers). It returns the service as the server answered it.
func (c *Client) FinishUpgrade(ctx context.Context, svc *Service) (*Service, error) {
	return c.serviceAction(ctx, svc, "finishupgrade")
}

// Rollback rolls an upgrade back (from upgrading, upgraded or
// canceled-upgrade): the previous launch config comes back and the old
// containers restart.
func (c *Client) Rollback(ctx context.Context, svc *Service) (*Service, error) {
	return c.serviceAction(ctx, svc, "rollback")
}

// CancelUpgrade stops a running upgrade (from upgrading or
// finishing-upgrade); the service ends canceled-upgrade.
func (c *Client) CancelUpgrade(ctx context.Context, svc *Service) (*Service, error) {
	return c.serviceAction(ctx, svc, "cancelupgrade")
}

// ContinueUpgrade resumes a canceled upgrade.
func (c *Client) ContinueUpgrade(ctx context.Context, svc *Service) (*Service, error) {
	return c.serviceAction(ctx, svc, "continueupgrade")
}

// Activate starts an inactive service.
func (c *Client) Activate(ctx context.Context, svc *Service) (*Service, error) {
	return c.serviceAction(ctx, svc, "activate")
}

// Deactivate stops a service.
func (c *Client) Deactivate(ctx context.Context, svc *Service) (*Service, error) {
	return c.serviceAction(ctx, svc, "deactivate")
}

// Restart restarts an active service's containers.
func (c *Client) Restart(ctx context.Context, svc *Service) (*Service, error) {
	return c.serviceAction(ctx, svc, "restart")
}

// UpgradeSpec says what an in-service upgrade changes and how it runs.
type UpgradeSpec struct {
	// Image is the new image of the primary container (a reference such as
	// "registry/app:1.4"; a "docker:" prefix is accepted). Empty leaves the
	// primary alone (then Sidekicks must name at least one).
	Image string
	// Sidekicks maps a secondary launch config's name to its new image.
	Sidekicks map[string]string
	// BatchSize is the number of units replaced at once; 0 leaves it to the
	// server (1).
	BatchSize int
	// IntervalMillis is the pause between batches; 0 leaves it to the
	// server (2000), otherwise at least 100.
	IntervalMillis int
	// StartFirst starts the new containers before stopping the old ones.
	StartFirst bool
}

func (s UpgradeSpec) validate() error {
	var errs []error
	if s.Image == "" && len(s.Sidekicks) == 0 {
		errs = append(errs, errors.New("neither Image nor Sidekicks given"))
	}
	if s.BatchSize < 0 {
		errs = append(errs, fmt.Errorf("BatchSize %d is negative", s.BatchSize))
	}
	if s.IntervalMillis != 0 && s.IntervalMillis < 100 {
		errs = append(errs, fmt.Errorf("IntervalMillis %d is below 100", s.IntervalMillis))
	}
	return errors.Join(errs...)
}

// UpgradeBody builds the upgrade action's body for svc: its current launch
// config, whole, with only imageUuid changed, and the named sidekicks'
// configs likewise. Sidekicks not named are not sent (the server keeps them).
func UpgradeBody(svc *Service, spec UpgradeSpec) (*ServiceUpgrade, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	st := &InServiceStrategy{BatchSize: spec.BatchSize, IntervalMillis: spec.IntervalMillis, StartFirst: spec.StartFirst}
	if spec.Image != "" {
		if svc.LaunchConfig == nil {
			return nil, errNoLaunchConfig
		}
		st.LaunchConfig = svc.LaunchConfig.Clone()
		if err := st.LaunchConfig.SetImage(spec.Image); err != nil {
			return nil, err
		}
	}
	done := map[string]bool{}
	for _, lc := range svc.SecondaryLaunchConfigs {
		if lc == nil {
			continue
		}
		img, ok := spec.Sidekicks[lc.Name()]
		if !ok {
			continue
		}
		nc := lc.Clone()
		if err := nc.SetImage(img); err != nil {
			return nil, fmt.Errorf("sidekick %s: %w", lc.Name(), err)
		}
		st.SecondaryLaunchConfigs = append(st.SecondaryLaunchConfigs, nc)
		done[lc.Name()] = true
	}
	var missing []string
	for name := range spec.Sidekicks {
		if !done[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("%w: sidekick %s", ErrNotFound, strings.Join(missing, ", "))
	}
	return &ServiceUpgrade{InServiceStrategy: st}, nil
}

// Upgrade starts an in-service upgrade. It re-reads the service first (one
// GET), so the launch config sent back is the server's current one, whole,
// with only the image(s) changed, and the actions map is fresh. It returns
// the service as the server answered (state upgrading). A service not in a
// state that allows upgrade (e.g. upgraded) is refused locally with an
// error matching ErrActionNotAvailable.
func (c *Client) Upgrade(ctx context.Context, svc *Service, spec UpgradeSpec) (*Service, error) {
	if err := spec.validate(); err != nil {
		return nil, fmt.Errorf("upgrade service %s: %w", svc.Name, err)
	}
	cur, err := c.Refresh(ctx, svc)
	if err != nil {
		return nil, fmt.Errorf("upgrade: %w", err)
	}
	body, err := UpgradeBody(cur, spec)
	if err != nil {
		return nil, fmt.Errorf("upgrade service %s (%s): %w", cur.Name, cur.ID, err)
	}
	var out Service
	if err := c.Action(ctx, &cur.Resource, "upgrade", body, &out); err != nil {
		return nil, nameErr(cur, err)
	}
	return &out, nil
}
