package lab

import (
	"fmt"
	"slices"
	"strings"

	"github.com/drover-dev/drover/internal/lab/dockersim"
)

// WindowsBuilds are the Windows builds (os.version) of the lab's image
// index when the lab has Windows hosts: Windows Server 2019 and 2022.
var WindowsBuilds = []string{"10.0.17763.6054", "10.0.20348.2582"}

// DefaultWindowsBuild is the build of Config.WindowsEnvs' hosts unless
// Config.WindowsBuild says otherwise (Windows Server 2019).
const DefaultWindowsBuild = "10.0.17763"

// checkWindows reports unknown Windows environments and a malformed build.
func checkWindows(c Config, envs []envPlan) []error {
	var errs []error
	for _, w := range c.WindowsEnvs {
		if !slices.ContainsFunc(envs, func(p envPlan) bool { return p.name == w }) {
			names := make([]string, len(envs))
			for i, p := range envs {
				names[i] = p.name
			}
			errs = append(errs, fmt.Errorf("windows-hosts: unknown environment %q (this lab's environments: %s)", w, strings.Join(names, ", ")))
		}
	}
	if !IsWindowsBuild(c.WindowsBuild) {
		errs = append(errs, fmt.Errorf("windows build %q: want major.minor.build, e.g. %s", c.WindowsBuild, DefaultWindowsBuild))
	}
	return errs
}

// IsWindowsBuild accepts "10.0.17763" and "10.0.17763.6054".
func IsWindowsBuild(v string) bool {
	parts := strings.Split(v, ".")
	if len(parts) < 3 || len(parts) > 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// windowsHost is the options that make host of env a Windows host, if env
// is one of c.WindowsEnvs.
func (c Config) windowsHost(env string) []dockersim.Option {
	if !slices.Contains(c.WindowsEnvs, env) {
		return nil
	}
	return []dockersim.Option{dockersim.WithPlatform("windows/amd64"), dockersim.WithOSVersion(c.WindowsBuild)}
}
