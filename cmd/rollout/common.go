package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/fleet"
	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/output"
	"github.com/drover-dev/drover/internal/output/rolloutview"
	"github.com/drover-dev/drover/inventory"
	"github.com/drover-dev/drover/rollout"
	"github.com/drover-dev/drover/rollout/adapt"
)

// scopeFlags select environments and services (and the release, if any).
type scopeFlags struct {
	release, lock string
	envs          []string
	services      []string
	fs            *pflag.FlagSet // the command's flags, for the ones a printed rerun repeats
}

func (f *scopeFlags) register(fs *pflag.FlagSet, overrides bool) {
	f.fs = fs
	fs.StringVarP(&f.release, "file", "f", "", "release file; its lock is release.lock.json beside it")
	fs.StringVar(&f.lock, "lock", "", cli.LockUsage)
	fs.StringSliceVar(&f.envs, "env", nil, "environments (default: all)")
	if overrides {
		fs.StringArrayVar(&f.services, "service", nil, "one-off target stack/service=image (repeatable; added to or replacing the release's)")
	} else {
		fs.StringArrayVar(&f.services, "service", nil, "service stack/service (repeatable; default: the release's, else all relevant)")
	}
}

// world is what a command works on.
type world struct {
	inv     *inventory.Inventory
	targets []rollout.EnvTarget
	conns   *adapt.Connections
	hosts   *adapt.HostPresence
}

// load reads the inventory (and release + lock) and resolves targets: with
// images for plan/apply (images=true), by name only otherwise.
func (f *scopeFlags) load(env *cli.Env, args []string, images bool) (*world, error) {
	if len(args) > 0 {
		return nil, cli.Usage("unexpected arguments %q", args)
	}
	inv, err := inventory.LoadFile(env.ConfigPath())
	if err != nil {
		return nil, cli.Usage("%v", err)
	}
	if err := inv.Validate(); err != nil {
		return nil, cli.Usage("%v", err)
	}
	var rel *inventory.Release
	var lock *inventory.Lock
	if f.release != "" {
		if rel, err = inventory.LoadRelease(f.release); err != nil {
			return nil, cli.Usage("%v", err)
		}
		lockAt := inventory.LockPath(f.release, f.lock)
		if lock, err = inventory.ReadLock(lockAt); errors.Is(err, fs.ErrNotExist) {
			return nil, cli.Usage("%v; write it with `%s`", err, cli.MirrorCommand(env, f.release, f.lock, false))
		} else if err != nil {
			return nil, cli.Usage("%v", err)
		}
		if err := cli.CheckLock(env, inv, rel, lock, lockAt, f.lock); err != nil {
			return nil, err
		}
	}
	conns := adapt.NewConnections(inv, env.Getenv)
	w := &world{inv: inv, conns: conns,
		hosts: adapt.NewHostPresence(inv, fleet.WithLogger(env.Logger), fleet.WithAuth(fleet.InventoryAuth(inv, env.Getenv))).ThroughRancher(conns.RancherHosts).UseLock(lock)}
	w.conns.UseLogger(env.Logger)
	if images {
		var ovs []rollout.Override
		for _, s := range f.services {
			o, err := rollout.ParseOverride(s)
			if err != nil {
				return nil, cli.Usage("%v", err)
			}
			ovs = append(ovs, o)
		}
		if rel == nil && len(ovs) == 0 {
			return nil, cli.Usage("give a release (-f release.yaml) or --service stack/service=image")
		}
		w.targets, err = rollout.Targets(inv, rel, lock, f.envs, ovs)
	} else {
		w.targets, err = rollout.ScopeRelease(inv, rel, lock, f.envs, f.services)
	}
	if err != nil {
		return nil, cli.Usage("%v", err)
	}
	if err := w.conns.Check(rollout.EnvNames(w.targets)); err != nil {
		return nil, cli.Usage("%v", err)
	}
	return w, nil
}

// show writes v as JSON (--json) or as a table to stdout.
func show(env *cli.Env, v any, table func(io.Writer) error) error {
	return output.Print(env.Stdout, env.JSON, v, table)
}

// finish prints a run's report and maps its outcome to the exit code:
// 0 done, 1 failed (put back), 3 needs a human. The error ends with the
// commands that resolve it: for services left not active, and for closed
// gates (pull the images with the release, when pull is given).
// A failed run that reached no service (an empty rollback) prints only its
// error: its table would be a header alone.
func finish(env *cli.Env, rep *rollout.Report, err error, verb string, pull *scopeFlags) error {
	if err == nil || env.JSON || reachedService(rep) {
		if werr := show(env, rep, func(w io.Writer) error { return rolloutview.RolloutReport(w, rep) }); werr != nil {
			return werr
		}
	}
	if err == nil {
		return nil
	}
	cmds := gateCommands(env, rep, verb, pull)
	if rep.NeedsHuman() {
		cmds = append(rep.Commands(), cmds...)
	}
	if len(cmds) > 0 {
		err = fmt.Errorf("%w\nrun: %s", err, strings.Join(cmds, "\n     "))
	}
	if rep.NeedsHuman() {
		return cli.NeedsHuman(err)
	}
	if errors.Is(err, rollout.ErrStartFirstConflict) {
		return &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	return cli.Failed(err)
}

// reachedService reports whether rep has a line for any service.
func reachedService(rep *rollout.Report) bool {
	if rep == nil {
		return false
	}
	for _, e := range rep.Envs {
		if len(e.Services) > 0 {
			return true
		}
	}
	return false
}

// gateCommands puts the images on the hosts a closed gate found without
// them: prewarm pull of the release onto those hosts, or the same command
// (verb, with the scope sf) rerun with --prewarm (the gate then pulls them
// itself). A host the image has no entry for (Missing.NoPlatform) is left
// out: no pull brings it, and the gate's cause says why.
func gateCommands(env *cli.Env, rep *rollout.Report, verb string, sf *scopeFlags) []string {
	var out []string
	for _, e := range rep.Envs {
		if e.Status != rollout.EnvGated || e.Gate == nil {
			continue
		}
		var hosts []string
		for _, m := range e.Gate.Missing {
			if m.Host != "-" && !m.NoPlatform && !slices.Contains(hosts, m.Host) {
				hosts = append(hosts, m.Host)
			}
		}
		switch {
		case len(hosts) == 0:
		case verb == "apply" && sf != nil && sf.release != "" && len(sf.services) == 0:
			cmd := "prewarm pull -c " + cli.Quote(env.ConfigPath()) + " -f " + cli.Quote(sf.release)
			if sf.lock != "" {
				cmd += " --lock " + cli.Quote(sf.lock)
			}
			out = append(out, fmt.Sprintf("%s --hosts %s   # %s: or rerun with --prewarm", cmd, cli.Quote(strings.Join(hosts, ",")), e.Env))
		default:
			out = append(out, fmt.Sprintf("%s   # %s: pulls the image onto %s", rerunPrewarm(env, verb, e.Env, sf), e.Env, strings.Join(hosts, ",")))
		}
	}
	return out
}

// rerunPrewarm is the command verb again, for environment envName, with
// --prewarm: its gate pulls the missing images itself. It is built like
// every printed command (rollout.CommandLine: subcommand first) and repeats
// the flags the run was given (--soak, --finish manual, ...), so that the
// rerun does what this run would have done; --notify is left out, since its
// URL may carry a token.
func rerunPrewarm(env *cli.Env, verb, envName string, sf *scopeFlags) string {
	args := []string{"--env", cli.Quote(envName)}
	if sf != nil {
		if sf.release != "" {
			args = append(args, "-f", cli.Quote(sf.release))
		}
		if sf.lock != "" {
			args = append(args, "--lock", cli.Quote(sf.lock))
		}
		for _, s := range sf.services {
			args = append(args, "--service", cli.Quote(s))
		}
		args = append(args, carriedFlags(sf.fs, "config", "env", "file", "lock", "service", "prewarm", "notify")...)
	}
	args = append(args, "--prewarm")
	return rollout.CommandLine("rollout -c "+cli.Quote(env.ConfigPath()), verb, strings.Join(args, " "))
}

// carriedFlags are the flags set on fs, but for skip, as arguments that set
// them again (quoted): --soak 0s, --finish manual, --json.
func carriedFlags(fs *pflag.FlagSet, skip ...string) []string {
	if fs == nil {
		return nil
	}
	var out []string
	fs.Visit(func(f *pflag.Flag) {
		switch {
		case slices.Contains(skip, f.Name):
		case f.Value.Type() == "bool" && f.Value.String() == "true":
			out = append(out, "--"+f.Name)
		case f.Value.Type() == "bool":
			out = append(out, "--"+f.Name+"=false")
		default:
			vals := []string{f.Value.String()}
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				vals = sv.GetSlice()
			}
			for _, v := range vals {
				out = append(out, "--"+f.Name, cli.Quote(v))
			}
		}
	})
	return out
}

// commandPrefix starts the commands reports print: with -c, they carry it,
// so that they work from any directory ($DROVER_INVENTORY is inherited).
// The engine prints them subcommand first: "rollout finish -c FILE ...".
func commandPrefix(env *cli.Env) string {
	if env.ConfigFlag == "" {
		return "rollout"
	}
	return "rollout -c " + cli.Quote(env.ConfigFlag)
}
