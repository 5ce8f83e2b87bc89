package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// StatusReport is every selected service's state, per environment.
type StatusReport struct {
	Envs []EnvStatusReport `json:"environments"`
}

// EnvStatusReport is one environment's services.
type EnvStatusReport struct {
	Env   string `json:"env"`
	Error string `json:"error,omitempty"`
	// Lease says who holds the environment's lease ("" when nobody does).
	Lease string `json:"lease,omitempty"`
	// Unlock is the command that removes the environment's lease when a
	// live one is held by another run ("" otherwise): until that run ends,
	// or its lease is removed, the services' commands exit 4.
	Unlock   string          `json:"unlock,omitempty"`
	Services []ServiceStatus `json:"services"`
}

// ServiceStatus is one service as Rancher reports it.
type ServiceStatus struct {
	Service string `json:"service"`
	ID      string `json:"id,omitempty"`
	State   string `json:"state"`
	Health  string `json:"health,omitempty"`
	Image   string `json:"image,omitempty"`
	// Pending is "from -> to" when an upgrade waits for finish or rollback.
	Pending string `json:"pending,omitempty"`
	// Previous is the image a finished upgrade replaced ("" if none).
	Previous string `json:"previous,omitempty"`
	// Target is the release's image for it, when a release was given.
	Target   string `json:"target,omitempty"`
	AtTarget bool   `json:"atTarget,omitempty"`
	Command  string `json:"command,omitempty"`
}

// Status reads every environment's services: those the targets name, or
// all of them when a target names none. Read-only.
func (e *Engine) Status(ctx context.Context, envs []EnvTarget) (*StatusReport, error) {
	out := &StatusReport{Envs: make([]EnvStatusReport, len(envs))}
	err := e.eachEnv(ctx, envs, func(ctx context.Context, er *envRun) error {
		rep := EnvStatusReport{Env: er.t.Name}
		defer func() { out.Envs[slices.IndexFunc(envs, func(t EnvTarget) bool { return t.Name == er.t.Name })] = rep }()
		byKey, err := er.services(ctx)
		if err != nil {
			rep.Error = err.Error()
			return err
		}
		for _, st := range selectServices(er.t, byKey, func(Service) bool { return true }) {
			cur, ok := byKey[st.Service]
			ss := ServiceStatus{Service: st.Service, Target: st.Image.Ref}
			if !ok {
				ss.State = "missing"
				rep.Services = append(rep.Services, ss)
				continue
			}
			ss.ID, ss.State, ss.Health, ss.Image, ss.Previous = cur.ID, cur.State, cur.HealthState, cur.Image, cur.PreviousImage
			if cur.Pending() {
				ss.Pending = cur.PreviousImage + " -> " + cur.Image
			}
			ss.AtTarget = st.Image.Ref != "" && cur.Image == st.Image.Ref && cur.State == StateActive
			ss.Command = commandFor(e.command, er.t.Name, st.Service, cur.State)
			rep.Services = append(rep.Services, ss)
		}
		return nil
	})
	return out, err
}

// selectServices is the target's services, or every service keep accepts
// (sorted) when the target names none.
func selectServices(t EnvTarget, byKey map[string]Service, keep func(Service) bool) []ServiceTarget {
	if len(t.Services) > 0 {
		return t.Services
	}
	var out []ServiceTarget
	for _, k := range sortedKeys(byKey) {
		if keep(byKey[k]) {
			out = append(out, ServiceTarget{Service: k})
		}
	}
	return out
}

// eachEnv runs f per environment, bounded, and joins the errors.
func (e *Engine) eachEnv(ctx context.Context, envs []EnvTarget, f func(context.Context, *envRun) error) error {
	var g errgroup.Group
	g.SetLimit(e.envConcurrency)
	errs := make([]error, len(envs))
	for i, t := range envs {
		g.Go(func() error {
			errs[i] = f(ctx, &envRun{e: e, t: t, run: time.Now().UTC().Format(time.RFC3339Nano), started: time.Now()})
			return nil
		})
	}
	_ = g.Wait()
	var out []error
	for _, err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return errors.Join(out...)
}

// Finish finishes pending upgrades (state upgraded): the services the
// targets name, or every upgraded service of the environment.
func (e *Engine) Finish(ctx context.Context, envs []EnvTarget) (*Report, error) {
	return e.resolve(ctx, envs, func(ctx context.Context, er *envRun, s *svcRun) {
		cur := s.last()
		if cur.State != StateUpgraded {
			s.outcome = OutcomeUnchanged
			s.errText = "not upgraded (state " + cur.State + "): nothing to finish"
			return
		}
		s.started, s.verified = true, true
		s.from, s.target.Image.Ref = cur.PreviousImage, cur.Image
		er.finishOne(ctx, s)
	}, nil)
}

// Rollback puts services back: a pending upgrade (upgraded, upgrading,
// canceled-upgrade) is rolled back by Rancher (old containers restart, no
// pull); a finished one is upgraded back to its previousLaunchConfig image,
// gated on that image still being on the hosts, verified and finished.
// Targets name the services; a target naming none means every service with
// a pending upgrade. A target's image, when set, is the release's: a
// service whose previous image it is was rolled back already and is left
// alone.
func (e *Engine) Rollback(ctx context.Context, envs []EnvTarget) (*Report, error) {
	back := make(map[string]*EnvTarget)
	rep, _ := e.resolve(ctx, envs, func(ctx context.Context, er *envRun, s *svcRun) {
		cur, release := s.last(), s.target.Image.Ref
		switch {
		case cur.Pending() || cur.State == StateUpgrading:
			s.started = true
			s.target.Image.Ref = cur.Image // what rollback moves away from
			if er.rollback(ctx, s) {
				s.outcome = OutcomeRolledBack
				s.target.Image.Ref = s.last().Image // the report's "to": where it went
			}
		case cur.State == StateActive && release != "" && cur.PreviousImage == release:
			// Rolled back already (the release replaced by its previous
			// image), or the release is older than what runs: going "back"
			// would deploy the release, not undo it.
			s.outcome = OutcomeUnchanged
			s.errText = fmt.Sprintf("left at %s: its previous image is the release's own %s (rolled back already, or -f names an older release); to deploy it anyway: %s",
				cur.Image, release, command(er.e.command, "rollback", "--env "+er.t.Name+" --service "+s.target.Service))
		case cur.State == StateActive && cur.PreviousImage != "" && cur.PreviousImage != cur.Image:
			s.outcome = "upgrade-back"
			er.mu.Lock()
			bt := back[er.t.Name]
			if bt == nil {
				bt = &EnvTarget{Name: er.t.Name, Wave: er.t.Wave, Region: er.t.Region, Strategy: er.t.Strategy, Concurrency: er.t.Concurrency}
				back[er.t.Name] = bt
			}
			st := ServiceTarget{Service: s.target.Service, Image: Image{Ref: cur.PreviousImage}}
			for name, ref := range cur.PreviousSidekicks {
				if st.Sidekicks == nil {
					st.Sidekicks = map[string]Image{}
				}
				st.Sidekicks[name] = Image{Ref: ref}
			}
			bt.Services = append(bt.Services, st)
			er.mu.Unlock()
		default:
			s.outcome = OutcomeUnchanged
			s.errText = "nothing to roll back (state " + cur.State + ", no previous image other than " + cur.Image + ")"
		}
	}, e.nothingToRollBack)
	var again []EnvTarget
	for _, t := range envs {
		if bt := back[t.Name]; bt != nil {
			again = append(again, *bt)
		}
	}
	if len(again) > 0 {
		// An interrupted upgrade back is finished, never rolled back: that
		// would put the release being undone back in place.
		up, _ := e.apply(ctx, again, PendingFinish, true)
		for _, ur := range up.Envs {
			i := slices.IndexFunc(rep.Envs, func(r EnvReport) bool { return r.Env == ur.Env })
			merged := rep.Envs[i]
			for j, sr := range merged.Services {
				if k := slices.IndexFunc(ur.Services, func(x ServiceReport) bool { return x.Service == sr.Service }); k >= 0 {
					merged.Services[j] = ur.Services[k]
				}
			}
			merged.Gate = ur.Gate
			merged.Seconds += ur.Seconds
			if merged.Status == EnvDone || ur.Status == EnvNeedsHuman {
				merged.Status, merged.Service, merged.Cause = ur.Status, ur.Service, ur.Cause
			}
			rep.Envs[i] = merged
		}
		rep.Interrupted = rep.Interrupted || up.Interrupted
		rep.Ended = time.Now()
	}
	return rep, rep.Err()
}

// nothingToRollBack is the failure of a rollback that names no service and
// finds none pending: a finished upgrade is only ever rolled back when
// named, so this is no success. It says what to add, with a command for the
// services that have a previous image to go back to.
func (e *Engine) nothingToRollBack(env string, byKey map[string]Service) error {
	var back []string
	for _, k := range sortedKeys(byKey) {
		if x := byKey[k]; x.State == StateActive && x.PreviousImage != "" && x.PreviousImage != x.Image {
			back = append(back, k)
		}
	}
	msg := fmt.Sprintf("nothing to roll back: no service of %s has a pending upgrade; to upgrade finished services back to their previous image, name them: add -f release.yaml (the release's services) or --service NAME", env)
	switch {
	case len(back) == 0:
		msg += " (no service of " + env + " has a previous image either)"
	case len(back) <= 5:
		msg += fmt.Sprintf(", e.g. `%s`", command(e.command, "rollback", "--env "+env+" --service "+strings.Join(back, " --service ")))
	default:
		msg += fmt.Sprintf(" (%d services have a previous image, e.g. `%s`)", len(back), command(e.command, "rollback", "--env "+env+" --service "+back[0]))
	}
	return errors.New(msg)
}

// resolve runs f on each selected service of each environment (services a
// target names, or every pending one) under the rest context, and reports.
// When a target names no service and none is pending, empty (if set) gives
// that environment's failure.
func (e *Engine) resolve(ctx context.Context, envs []EnvTarget, f func(context.Context, *envRun, *svcRun), empty func(string, map[string]Service) error) (*Report, error) {
	rest, stop := e.restContext(ctx)
	defer stop()
	rep := &Report{Started: time.Now(), Envs: make([]EnvReport, len(envs))}
	_ = e.eachEnv(rest, envs, func(rest context.Context, er *envRun) error {
		i := slices.IndexFunc(envs, func(t EnvTarget) bool { return t.Name == er.t.Name })
		byKey, err := er.services(rest)
		if err != nil {
			er.fail(nil, err)
			rep.Envs[i] = er.report(EnvReport{Env: er.t.Name, Wave: er.t.Wave}, ctx)
			return nil
		}
		for _, st := range selectServices(er.t, byKey, Service.Pending) {
			cur, ok := byKey[st.Service]
			s := &svcRun{target: st, cur: cur, from: cur.Image}
			er.svcs = append(er.svcs, s)
			if !ok {
				er.fail(s, fmt.Errorf("%w: service %s not in environment %s", ErrNotFound, st.Service, er.t.Name))
			}
		}
		if len(er.svcs) == 0 && empty != nil {
			er.fail(nil, empty(er.t.Name, byKey))
		}
		if !er.failed() {
			er.forEach(ctx, er.svcs, func(s *svcRun) bool { f(rest, er, s); return true })
		}
		rep.Envs[i] = er.report(EnvReport{Env: er.t.Name, Wave: er.t.Wave}, ctx)
		return nil
	})
	rep.Interrupted = ctx.Err() != nil
	rep.Ended = time.Now()
	return rep, rep.Err()
}
