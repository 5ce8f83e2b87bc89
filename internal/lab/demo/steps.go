package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/output"
)

// The story's steps after the lab is up; each returns an error when the
// tools did not behave as the story says.

func (s *story) rolloutFlags(extra ...string) []string {
	return append([]string{"-c", "hosts.yaml", "--soak", s.o.Soak.String()}, extra...)
}

// prewarmRelease: prewarm run app:1.1 mirrors and pulls only the new layers.
func (s *story) prewarmRelease(ctx context.Context) error {
	s.headline("Nightly prewarm of app:1.1: mirror to the regions, pull onto every host")
	if err := s.prewarm(ctx, "1.1"); err != nil {
		return err
	}
	return s.checkWindows(ctx, "app-1.1/release.yaml", "1.1")
}

func (s *story) prewarm(ctx context.Context, tag string) error {
	rel, err := s.writeRelease(tag)
	if err != nil {
		return err
	}
	if err := s.resetTraffic(ctx); err != nil {
		return err
	}
	res, err := s.r.run(ctx, "prewarm", "run", "-c", "hosts.yaml", "-f", rel)
	if err != nil {
		return err
	}
	if err := expect(res, 0); err != nil {
		return err
	}
	s.record("prewarm run app:"+tag+" (mirror + pull)", res.took)
	t, err := s.traffic(ctx)
	if err != nil {
		return err
	}
	layers, size := s.newLayers(tag)
	s.say("moved: source -> regions %s (mirror), regions -> %d hosts %s (%s each)",
		output.HumanBytes(t.uploaded), len(s.l.Hosts()), output.HumanBytes(t.hostBytes), output.HumanBytes(t.hostBytes/int64(len(s.l.Hosts()))))
	s.say("only the delta: every host fetched the %d new layers (%s) of %d; the %d base layers of app:1.0 stayed put",
		len(layers), output.HumanBytes(size), s.cfg.Layers, s.cfg.Layers-len(layers))
	if t.uploaded > int64(len(s.l.RegionNames()))*size+1<<20 {
		return fmt.Errorf("the mirror uploaded %s, more than the new layers to every region", output.HumanBytes(t.uploaded))
	}
	return s.checkHostsFetched(t, layers)
}

// rolloutRelease: rollout apply app:1.1 in waves; no host pulls anything.
func (s *story) rolloutRelease(ctx context.Context) error {
	s.headline("Deploy app:1.1: rollout apply, wave by wave, gated on the hosts holding it")
	if err := s.resetTraffic(ctx); err != nil {
		return err
	}
	res, err := s.r.run(ctx, "rollout", append([]string{"apply"}, s.rolloutFlags("-f", "app-1.1/release.yaml")...)...)
	if err != nil {
		return err
	}
	if err := expect(res, 0); err != nil {
		return err
	}
	s.record("rollout apply app:1.1 (image on the hosts)", res.took)
	s.fast = res.took
	t, err := s.traffic(ctx)
	if err != nil {
		return err
	}
	s.say("the hosts fetched %s from the registries during the rollout: nothing to pull", output.HumanBytes(t.hostBytes))
	if err := s.checkHostsFetched(t, nil); err != nil {
		return err
	}
	return s.checkServices("1.1", s.envNames(nil))
}

// rollbackRelease: rollout rollback puts app:1.0 back from previousLaunchConfig.
func (s *story) rollbackRelease(ctx context.Context) error {
	s.headline("Roll app:1.1 back: rollout rollback, to app:1.0 (Rancher's previousLaunchConfig, still on the hosts)")
	envs := strings.Join(s.envNames(nil), ",")
	res, err := s.r.run(ctx, "rollout", append([]string{"rollback"}, s.rolloutFlags("--env", envs, "-f", "app-1.1/release.yaml")...)...)
	if err != nil {
		return err
	}
	if err := expect(res, 0); err != nil {
		return err
	}
	s.record("rollout rollback to app:1.0", res.took)
	return s.checkServices("1.0", s.envNames(nil))
}

// failedRelease: app:1.2 never turns healthy; rollout apply rolls the first
// wave back, exits 1 and starts no later wave.
func (s *story) failedRelease(ctx context.Context) error {
	s.headline("A bad release: app:1.2 never turns healthy")
	f, err := lab.ParseFault("rancher:never-healthy-image=*/app:1.2")
	if err != nil {
		return err
	}
	if err := s.l.Inject(f); err != nil {
		return err
	}
	defer s.l.Rancher.SetNeverHealthy()
	s.say("lab fault: rancher:never-healthy-image=*/app:1.2 (its containers stay initializing)")
	if err := s.prewarm(ctx, "1.2"); err != nil {
		return err
	}
	res, err := s.r.run(ctx, "rollout", append([]string{"apply"}, s.rolloutFlags("-f", "app-1.2/release.yaml", "--upgrade-timeout", s.o.UpgradeTimeout.String())...)...)
	if err != nil {
		return err
	}
	if err := expect(res, 1); err != nil {
		return err
	}
	s.record("rollout apply app:1.2 (fails, rolls back)", res.took)
	first := s.envNames(func(w int) bool { return w == 0 })
	later := s.envNames(func(w int) bool { return w > 0 })
	s.say("exit 1: the release failed and was put back (3 would mean it could not be: a human is needed).")
	s.say("wave 0 (%s) was upgraded, never turned healthy within --upgrade-timeout %s, and Rancher rolled it back",
		strings.Join(first, ", "), s.o.UpgradeTimeout)
	s.say("to app:1.0 (the old containers restart, nothing to pull); waves after it (%s) were never touched.", strings.Join(later, ", "))
	for _, e := range first {
		if !strings.Contains(res.stdout, e+": failed") {
			return fmt.Errorf("%s is not reported failed", e)
		}
	}
	for _, e := range later {
		if !strings.Contains(res.stdout, e+": not-started") {
			return fmt.Errorf("%s is not reported not-started", e)
		}
	}
	return s.checkServices("1.0", s.envNames(nil))
}

// withoutPrewarm: app:1.3 only mirrored, so every environment's hosts pull
// it when its turn comes; timed against the prewarmed rollout.
func (s *story) withoutPrewarm(ctx context.Context) error {
	s.headline("The same deploy without prewarm: app:1.3, mirrored but on no host")
	rel, err := s.writeRelease("1.3")
	if err != nil {
		return err
	}
	res, err := s.r.run(ctx, "prewarm", "mirror", "-c", "hosts.yaml", "-f", rel)
	if err != nil {
		return err
	}
	if err := expect(res, 0); err != nil {
		return err
	}
	if err := s.resetTraffic(ctx); err != nil {
		return err
	}
	s.say("rollout apply --prewarm: each environment's hosts pull the image when its wave starts, inside the deploy window")
	res, err = s.r.run(ctx, "rollout", append([]string{"apply"}, s.rolloutFlags("-f", rel, "--prewarm")...)...)
	if err != nil {
		return err
	}
	if err := expect(res, 0); err != nil {
		return err
	}
	s.record("rollout apply app:1.3 (hosts pull during it)", res.took)
	t, err := s.traffic(ctx)
	if err != nil {
		return err
	}
	layers, _ := s.newLayers("1.3")
	if err := s.checkHostsFetched(t, layers); err != nil {
		return err
	}
	if err := s.checkServices("1.3", s.envNames(nil)); err != nil {
		return err
	}
	fast := s.fast
	s.say("the hosts pulled %s during the deploy.", output.HumanBytes(t.hostBytes))
	s.say("deploy with the image prewarmed (step 3): %s; pulling during the deploy: %s (%.1fx)",
		fast.Round(100*time.Millisecond), res.took.Round(100*time.Millisecond), res.took.Seconds()/fast.Seconds())
	return nil
}
