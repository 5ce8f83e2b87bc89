package cli

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/inventory"
)

// ValidateCommand is both tools' `validate`: the inventory read strictly,
// every problem at once (exit 2), else the effective inventory printed.
// rancher adds rancher.url and every environment's Rancher keys to what
// --require-credentials requires (rollout needs them; prewarm only for
// discover and seed, which check for themselves).
func ValidateCommand(tool string, rancher bool) *Command {
	var requireCreds, checkFiles bool
	requireHelp := "fail when a credential env var the inventory names is unset"
	if rancher {
		requireHelp = "fail when rancher.url, an environment's Rancher credentials, or any credential env var is missing"
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
