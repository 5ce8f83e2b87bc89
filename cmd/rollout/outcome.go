package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/internal/output/rolloutview"
	"github.com/drover-dev/drover/rollout"
	"github.com/spf13/pflag"
)

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
// out: no pull brings it, and the gate's cause says why; so is a host
// Rancher lists but the inventory does not (Missing.NotInInventory): no
// prewarm command takes it; and so is a host Rancher refused the key access
// to (Missing.Refused): prewarm, with the same key, would be refused too.
func gateCommands(env *cli.Env, rep *rollout.Report, verb string, sf *scopeFlags) []string {
	var out []string
	for _, e := range rep.Envs {
		if e.Status != rollout.EnvGated || e.Gate == nil {
			continue
		}
		var hosts []string
		for _, m := range e.Gate.Missing {
			if m.Host != "-" && !m.NoPlatform && !m.NotInInventory && !m.Refused && !slices.Contains(hosts, m.Host) {
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
