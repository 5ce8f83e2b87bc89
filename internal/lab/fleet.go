package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	"github.com/drover-dev/drover/internal/lab/dockersim"
	"github.com/drover-dev/drover/internal/lab/ranchersim"
)

// startFleet starts the Rancher simulator, then every environment's hosts,
// each registered in its project as a Rancher agent would be.
func (l *Lab) startFleet(ctx context.Context) error {
	cfg := l.cfg
	rs, err := ranchersim.Start(ctx, ranchersim.WithLogger(cfg.Logger.With("component", "rancher")))
	if err != nil {
		return err
	}
	l.Rancher = rs
	l.closers = append(l.closers, rs.Close)
	l.hosts = map[string]*dockersim.Host{}
	l.projects = map[string]*ranchersim.Project{}
	l.rancherHosts = map[string]*ranchersim.Host{}

	for _, p := range planEnvs(cfg.Envs, l.regionNames) {
		e := newEnv(p)
		keys := ranchersim.Keys{Access: randomKey(10), Secret: randomKey(20)}
		l.secrets[e.AccessKeyEnv], l.secrets[e.SecretKeyEnv] = keys.Access, keys.Secret
		proj := rs.AddProject(p.name, keys)
		l.projects[p.name] = proj

		for i := range cfg.HostsPerEnv {
			name := hostName(p.name, i)
			link := cfg.HostLink
			if hl, ok := cfg.HostLinks[name]; ok {
				link = hl
			}
			opts := []dockersim.Option{
				dockersim.WithName(name),
				dockersim.WithLink(link),
				dockersim.WithLogger(cfg.Logger.With("host", name)),
			}
			opts = append(opts, cfg.windowsHost(p.name)...)
			if cfg.ExtractRate > 0 {
				opts = append(opts, dockersim.WithExtractRate(cfg.ExtractRate))
			}
			if cfg.DiskCapacity > 0 {
				opts = append(opts, dockersim.WithDiskCapacity(cfg.DiskCapacity))
			}
			h, err := dockersim.Start(ctx, opts...)
			if err != nil {
				return fmt.Errorf("host %s: %w", name, err)
			}
			l.closers = append(l.closers, h.Close)
			l.hosts[name] = h
			u, err := url.Parse(h.Endpoint())
			if err != nil {
				return fmt.Errorf("host %s: endpoint %q: %w", name, h.Endpoint(), err)
			}
			labels := map[string]string{"region": p.region, "env": p.name, "docker-port": u.Port()}
			rh := proj.AddHost(name, u.Hostname(), labels, h)
			rh.SetDocker(ranchersim.DialTCP(u.Host)) // the agent relays dockersocket to the host's dockerd
			l.rancherHosts[name] = rh
			e.Hosts = append(e.Hosts, &Host{Name: name, Env: p.name, Region: p.region, Endpoint: h.Endpoint(), Labels: labels})
		}
		l.envs = append(l.envs, e)
	}
	return nil
}

// newEnv is environment p, without hosts yet; its Rancher keys are in
// LAB_<NAME>_ACCESS_KEY and LAB_<NAME>_SECRET_KEY.
func newEnv(p envPlan) *Env {
	e := &Env{Name: p.name, Region: p.region, Wave: p.wave}
	prefix := "LAB_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(p.name))
	e.AccessKeyEnv, e.SecretKeyEnv = prefix+"_ACCESS_KEY", prefix+"_SECRET_KEY"
	return e
}

// randomKey is n random bytes in hex: lab-only keys and passwords.
func randomKey(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return strings.ToUpper(hex.EncodeToString(b))
}

// DockerHost is the simulated Docker host named name (nil if unknown), for
// its fault knobs (SetDown, SetHang, FailPullMidStream) and Engine methods.
func (l *Lab) DockerHost(name string) *dockersim.Host { return l.hosts[name] }

// Project is the Rancher project of environment name (nil if unknown).
func (l *Lab) Project(name string) *ranchersim.Project { return l.projects[name] }
