package cli

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/inventory"
)

// ValidateCommand is both tools' `validate`: the inventory read strictly,
// every problem at once (exit 2), else the effective inventory printed.
// --require-credentials requires Rancher as every command resolves it
// (rancher.url or $RANCHER_URL; keys named, or $RANCHER_ACCESS_KEY and
// $RANCHER_SECRET_KEY) for the environments that reach Rancher (discover,
// docker: rancher); rancher makes that every environment (rollout).
func ValidateCommand(tool string, rancher bool) *Command {
	var requireCreds, checkFiles bool
	requireHelp := "fail when a credential env var the inventory names is unset, or Rancher's URL or keys are missing for an environment that uses discover or docker: rancher"
	if rancher {
		requireHelp = "fail when a credential env var the inventory names is unset, or Rancher's URL (rancher.url or $RANCHER_URL) or keys (named, or $RANCHER_ACCESS_KEY and $RANCHER_SECRET_KEY) are missing"
	}
	return &Command{
		Name:    "validate",
		Summary: "check the inventory; print it with defaults merged (never secrets)",
		Usage: tool + " validate [-c hosts.yaml] [--require-credentials] [--json]\n\n" +
			"Reads the inventory strictly and reports every problem at once (exit 2).\n" +
			"Otherwise prints the effective inventory, defaults merged down: YAML that is\n" +
			"itself a valid inventory, or JSON with --json; credential env vars are listed\n" +
			"by name with set/unset, never their values.",
		Flags: func(fs *pflag.FlagSet) {
			fs.BoolVar(&requireCreds, "require-credentials", false, requireHelp)
			fs.BoolVar(&checkFiles, "check-files", true, "open and parse the tls, caCert and dockerConfig files the inventory names")
		},
		Run: func(_ context.Context, env *Env, args []string) error {
			if len(args) > 0 {
				return Usage("validate takes no arguments, got %q", args)
			}
			opts := []inventory.ValidateOption{inventory.CheckFiles(checkFiles)}
			if requireCreds {
				opts = append(opts, inventory.RequireCredentials(env.Getenv))
				if rancher {
					opts = append(opts, inventory.RequireRancher(env.Getenv))
				}
			}
			inv, err := inventory.LoadAndValidate(env.ConfigPath(), opts...)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			return inventory.Describe(env.Stdout, inv, env.Getenv, env.JSON)
		},
	}
}
