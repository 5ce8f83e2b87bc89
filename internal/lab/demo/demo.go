// Package demo is `lab demo`: the whole Drover story told on a lab started
// in the process, by the real prewarm and rollout binaries run as
// subprocesses. Each step prints its command line, the command's
// (condensed) output and its timing, then checks that the tools did what
// the story says (exit codes, traffic the registries saw, the services'
// images); a step that did not is an error naming it.
//
// The lab's secrets (Rancher keys) reach the tools through their
// environment and a file in the demo's temporary directory, never a
// command line or the output. Run is not safe to call concurrently with
// the same Options.Bin writing into it (it only reads it).
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/inventory"
)

// ErrUsage marks an error in Options (or a missing tool): nothing ran.
var ErrUsage = errors.New("lab demo")

// Options size the story; DefaultOptions is the `make demo` story.
type Options struct {
	Regions, Envs, HostsPerEnv, Services, Layers, Base int
	// ImageSize ("1GiB") and HostLink ("100MB/s,2ms", none: unshaped) as
	// lab.ParseBytes and lab.Config.SetLink read them.
	ImageSize, HostLink               string
	HealthDelay, Soak, UpgradeTimeout time.Duration
	BatchInterval                     int // strategy.intervalMillis
	// Bin holds the prewarm and rollout binaries (empty: beside this
	// executable).
	Bin string
	// Full prints the commands' whole tables (else one row per environment);
	// Keep keeps the temporary directory.
	Full, Keep bool
	// Logger gets the lab's logs. The default discards them.
	Logger *slog.Logger
}

// DefaultOptions is the `make demo` story.
func DefaultOptions() Options {
	return Options{Regions: 3, Envs: 5, HostsPerEnv: 3, Services: 4, Layers: 8, Base: 6,
		ImageSize: "1GiB", HostLink: "100MB/s,2ms", HealthDelay: 300 * time.Millisecond,
		BatchInterval: 200, Soak: 2 * time.Second, UpgradeTimeout: 10 * time.Second}
}

// usageError is an error that is ErrUsage, and says only what it says.
type usageError struct{ error }

func (e usageError) Unwrap() error      { return e.error }
func (usageError) Is(target error) bool { return target == ErrUsage }

// usage is an ErrUsage error.
func usage(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// config is the lab the story runs on.
func (o Options) config() (lab.Config, error) {
	size, err := lab.ParseBytes(o.ImageSize)
	if err != nil {
		return lab.Config{}, usage("--image-size: %v", err)
	}
	cfg := lab.Config{
		Regions: o.Regions, Envs: o.Envs, HostsPerEnv: o.HostsPerEnv, Services: o.Services,
		Images: []string{"app:1.0", "app:1.1", "app:1.2", "app:1.3"}, ServiceImage: "app:1.0",
		ImageSize: size, Layers: o.Layers, Base: o.Base, HealthDelay: o.HealthDelay,
		Strategy: inventory.Strategy{BatchSize: 1, IntervalMillis: o.BatchInterval}, Concurrency: o.Services,
		Logger: o.Logger, ViaRancher: lab.DMZ(o.Regions, o.Envs),
	}
	if o.Envs >= 3 { // the "demo" environment runs Windows Server 2022
		cfg.WindowsEnvs, cfg.WindowsBuild = []string{windowsEnv}, windowsBuild
	}
	if o.Regions < 1 || o.Envs < 1 || o.HostsPerEnv < 1 || o.Services < 1 || o.Layers < 1 || size < 1 || o.Base < 0 || o.Base >= o.Layers {
		return cfg, usage("--regions, --envs, --hosts-per-env, --services, --layers and --image-size must be at least 1, --base below --layers")
	}
	if o.HealthDelay <= 0 || o.BatchInterval < 100 || o.UpgradeTimeout <= 0 || o.Soak < 0 {
		return cfg, usage("--health-delay and --upgrade-timeout must be positive, --batch-interval at least 100")
	}
	if err := cfg.SetLink("hosts:" + o.HostLink); err != nil {
		return cfg, usage("--host-link: %v", err)
	}
	return cfg, nil
}

// tools is the directory holding prewarm and rollout.
func (o Options) tools() (string, error) {
	bin := o.Bin
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return "", usage("find the prewarm and rollout binaries: %v (pass --bin DIR)", err)
		}
		bin = filepath.Dir(exe)
	}
	for _, tool := range []string{"prewarm", "rollout"} {
		if _, err := os.Stat(filepath.Join(bin, tool)); err != nil {
			return "", usage("no %s binary in %s (make demo builds bin/; or pass --bin DIR): %v", tool, bin, err)
		}
	}
	return bin, nil
}

// Run tells the story to out. An error wrapping ErrUsage means nothing
// ran; any other, that the lab could not start or a step did not behave
// as told (out then says which, after "STORY BROKEN").
func Run(ctx context.Context, o Options, out io.Writer) error {
	cfg, err := o.config()
	if err != nil {
		return err
	}
	bin, err := o.tools()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "drover-demo-")
	if err != nil {
		return err
	}
	if o.Keep {
		defer fmt.Fprintf(out, "\nkept %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	s := &story{o: o, cfg: cfg, out: out, dir: dir, bin: bin}
	return s.run(ctx)
}
