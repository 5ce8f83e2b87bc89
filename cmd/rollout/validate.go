package main

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/internal/cli"
	"github.com/drover-dev/drover/inventory"
)

func validateCmd() *cli.Command {
	var requireCreds, checkFiles bool
	return &cli.Command{
		Name:    "validate",
		Summary: "check the inventory; print it with defaults merged (never secrets)",
		Usage: "rollout validate [-c hosts.yaml] [--require-credentials] [--json]\n\n" +
			"Reads the inventory strictly and reports every problem at once (exit 2).\n" +
			"Otherwise prints the effective inventory, defaults merged down: YAML that is\n" +
			"itself a valid inventory, or JSON with --json; credential env vars are listed\n" +
			"by name with set/unset, never their values.",
		Flags: func(fs *pflag.FlagSet) {
			fs.BoolVar(&requireCreds, "require-credentials", false, "fail when rancher.url, an environment's Rancher credentials, or any credential env var is missing")
			fs.BoolVar(&checkFiles, "check-files", true, "open and parse the tls, caCert and dockerConfig files the inventory names")
		},
		Run: func(_ context.Context, env *cli.Env, args []string) error {
			if len(args) > 0 {
				return cli.Usage("validate takes no arguments, got %q", args)
			}
			opts := []inventory.ValidateOption{inventory.CheckFiles(checkFiles)}
			if requireCreds {
				opts = append(opts, inventory.RequireCredentials(env.Getenv), inventory.RequireRancher(env.Getenv))
			}
			inv, err := inventory.LoadAndValidate(env.ConfigPath(), opts...)
			if err != nil {
				return &cli.ExitError{Code: cli.ExitUsage, Err: err}
			}
			return inventory.Describe(env.Stdout, inv, env.Getenv, env.JSON)
		},
	}
}
