package rollout

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// PlanReport is what Apply would do, per wave, environment and service.
type PlanReport struct {
	Envs []EnvPlan `json:"environments"`
}

// EnvPlan is one environment's plan.
type EnvPlan struct {
	Env         string      `json:"env"`
	Wave        int         `json:"wave"`
	Strategy    Strategy    `json:"strategy"`
	Concurrency int         `json:"concurrency"`
	Gate        *GateStatus `json:"gate,omitempty"`
	Error       string      `json:"error,omitempty"`
	// Warnings are what the plan found suspicious without being an error,
	// e.g. a strategy.startFirstServices name the environment lacks.
	Warnings []string      `json:"warnings,omitempty"`
	Services []ServicePlan `json:"services"`
}

// Plan actions.
const (
	PlanUpgrade   = "upgrade"
	PlanUnchanged = "unchanged"
	PlanPending   = "pending" // an earlier upgrade waits: --on-pending decides
	PlanBusy      = "busy"    // transitional: apply waits for it
	PlanMissing   = "missing" // no such service
)

// ServicePlan is one service's planned change.
type ServicePlan struct {
	Service   string `json:"service"`
	ID        string `json:"id,omitempty"`
	State     string `json:"state,omitempty"`
	Health    string `json:"health,omitempty"`
	Current   string `json:"current,omitempty"`
	New       string `json:"new"`
	Action    string `json:"action"`
	Scale     int    `json:"scale"`
	BatchSize int    `json:"batchSize"`
	Batches   int    `json:"batches"`
	// StartFirst is the effective strategy; Note says why it differs from
	// the environment's, or the conflict apply would refuse.
	StartFirst bool   `json:"startFirst"`
	Note       string `json:"note,omitempty"`
}

// Plan reads each environment (services, hosts, one gate check) and says
// what Apply would do. It makes no Rancher write call. The error joins the
// environments that could not be read; gate results are data, not errors.
func (e *Engine) Plan(ctx context.Context, targets []EnvTarget) (*PlanReport, error) {
	out := &PlanReport{Envs: make([]EnvPlan, len(targets))}
	var mu sync.Mutex
	var errs []error
	var g errgroup.Group
	g.SetLimit(e.envConcurrency)
	for i, t := range targets {
		g.Go(func() error {
			p, err := e.planEnv(ctx, t)
			out.Envs[i] = p
			if err != nil {
				p.Error = err.Error()
				out.Envs[i] = p
				mu.Lock()
				errs = append(errs, fmt.Errorf("plan %s: %w", t.Name, err))
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	return out, errors.Join(errs...)
}

func (e *Engine) planEnv(ctx context.Context, t EnvTarget) (EnvPlan, error) {
	p := EnvPlan{Env: t.Name, Wave: t.Wave, Strategy: t.Strategy, Concurrency: t.Concurrency}
	er := &envRun{e: e, t: t}
	byKey, err := er.services(ctx)
	if err != nil {
		return p, err
	}
	for _, name := range t.Strategy.StartFirstServices {
		if _, ok := byKey[name]; !ok {
			p.Warnings = append(p.Warnings, fmt.Sprintf("strategy.startFirstServices names %s, which %s does not have (a typo? it insists on nothing)", name, t.Name))
		}
	}
	var gated []*svcRun
	for _, st := range t.Services {
		cur, ok := byKey[st.Service]
		sp := ServicePlan{Service: st.Service, New: st.Image.Ref, BatchSize: t.Strategy.BatchSize}
		if !ok {
			sp.Action = PlanMissing
			p.Services = append(p.Services, sp)
			continue
		}
		sp.ID, sp.State, sp.Health, sp.Current, sp.Scale = cur.ID, cur.State, cur.HealthState, cur.Image, cur.Scale
		sp.Batches = batches(cur.Scale, t.Strategy.BatchSize)
		switch {
		case cur.Image == st.Image.Ref && sidekicksAt(cur, st) && cur.State == StateActive:
			sp.Action, sp.Batches = PlanUnchanged, 0
		case cur.Pending():
			sp.Action = PlanPending
		case cur.Busy():
			sp.Action = PlanBusy
		default:
			sp.Action = PlanUpgrade
		}
		if sp.Action != PlanUnchanged {
			gated = append(gated, &svcRun{target: st, cur: cur})
		}
		p.Services = append(p.Services, sp)
	}
	if len(gated) > 0 {
		hosts, err := retryRead(ctx, er, "list hosts", er.r.Hosts)
		if err != nil {
			return p, err
		}
		planPorts(&p, t, byKey, hosts)
		st, _ := e.checkGate(ctx, t.Name, hosts, gated, time.Now())
		p.Gate = &st
	}
	return p, nil
}
