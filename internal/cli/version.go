package cli

import (
	"fmt"
	"runtime/debug"
)

// Version is what --version prints: the tool, the module version, the VCS
// revision (with "+modified" when built from a dirty tree) and its time,
// and the Go version, all from the binary's build info.
func Version(tool string) string {
	bi, ok := debug.ReadBuildInfo()
	return versionOf(tool, bi, ok)
}

func versionOf(tool string, bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return tool + " (no build info)"
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	s := fmt.Sprintf("%s %s", tool, version)
	if rev := settings["vcs.revision"]; rev != "" {
		if settings["vcs.modified"] == "true" {
			rev += "+modified"
		}
		s += " commit " + rev
		if at := settings["vcs.time"]; at != "" {
			s += " (" + at + ")"
		}
	}
	if bi.Main.Path != "" {
		s += " module " + bi.Main.Path
	}
	return s + " " + bi.GoVersion
}
