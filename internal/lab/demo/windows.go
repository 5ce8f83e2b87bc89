package demo

import (
	"context"
	"fmt"
	"strings"

	"github.com/moby/moby/client"
)

// The story's Windows environment and its hosts' build (Windows Server
// 2022); the lab's app images are manifest lists of linux/amd64 and the
// Windows builds lab.WindowsBuilds.
const (
	windowsEnv   = "demo"
	windowsBuild = "10.0.20348"
)

// checkWindows shows prewarm status for the Windows environment (the
// platform it checked per host) and checks that each of its hosts holds
// app:<tag> of its own build.
func (s *story) checkWindows(ctx context.Context, rel, tag string) error {
	if len(s.cfg.WindowsEnvs) == 0 {
		return nil
	}
	s.say("%s's hosts are Windows %s: app is a manifest list of linux/amd64 and two Windows builds,", windowsEnv, windowsBuild)
	s.say("and prewarm pulled each host the entry of its own build (process isolation needs the same build):")
	res, err := s.r.run(ctx, "prewarm", "status", "-c", "hosts.yaml", "-f", rel, "--env", windowsEnv)
	if err != nil {
		return err
	}
	if err := expect(res, 0); err != nil {
		return err
	}
	if !strings.Contains(res.stdout, "windows/amd64 "+windowsBuild) {
		return fmt.Errorf("prewarm status does not show %s's hosts as windows/amd64 %s", windowsEnv, windowsBuild)
	}
	for _, e := range s.l.Envs() {
		if e.Name != windowsEnv {
			continue
		}
		ref := s.l.Region(e.Region).Addr() + "/app:" + tag
		for _, h := range e.Hosts {
			if err := checkBuild(ctx, h.Endpoint, h.Name, ref); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkBuild inspects ref on the host at endpoint: a Windows image of
// windowsBuild.
func checkBuild(ctx context.Context, endpoint, host, ref string) error {
	c, err := client.New(client.WithHost(endpoint))
	if err != nil {
		return err
	}
	defer c.Close()
	res, err := c.ImageInspect(ctx, ref)
	if err != nil {
		return fmt.Errorf("inspect %s on %s: %w", ref, host, err)
	}
	if res.Os != "windows" || !strings.HasPrefix(res.OsVersion, windowsBuild+".") {
		return fmt.Errorf("host %s holds %s of %s %s, want windows %s", host, ref, res.Os, res.OsVersion, windowsBuild)
	}
	return nil
}
