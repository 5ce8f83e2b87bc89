package dockersim

import (
	"net/http"
	"runtime"
	"strings"
	"time"
)

func (h *Host) handlePing(w http.ResponseWriter, r *http.Request, _, _ string) {
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	hdr.Set("Pragma", "no-cache")
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	if r.Method == http.MethodHead {
		hdr.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("OK"))
}

func (h *Host) handleVersion(w http.ResponseWriter, _ *http.Request, _, _ string) {
	p := h.cfg.platform
	details := map[string]string{
		"ApiVersion": APIVersion, "Arch": p.Architecture, "BuildTime": "2026-01-01T00:00:00.000000000+00:00",
		"Experimental": "false", "GitCommit": "drover", "GoVersion": runtime.Version(),
		"KernelVersion": "lab", "MinAPIVersion": minAPIVersion, "Os": p.OS,
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"Platform":      map[string]string{"Name": "Drover lab (simulated Docker Engine)"},
		"Components":    []any{map[string]any{"Name": "Engine", "Version": engineVersion, "Details": details}},
		"Version":       engineVersion,
		"ApiVersion":    APIVersion,
		"MinAPIVersion": minAPIVersion,
		"GitCommit":     "drover",
		"GoVersion":     runtime.Version(),
		"Os":            p.OS,
		"Arch":          p.Architecture,
		"KernelVersion": "lab",
		"BuildTime":     "2026-01-01T00:00:00.000000000+00:00",
	})
}

func (h *Host) handleInfo(w http.ResponseWriter, _ *http.Request, _, _ string) {
	s := h.store
	s.mu.Lock()
	var running, stopped int
	for _, c := range s.containers {
		if c.running {
			running++
		} else {
			stopped++
		}
	}
	images := len(s.images)
	s.mu.Unlock()
	arch := h.cfg.platform.Architecture
	if arch == "amd64" {
		arch = "x86_64"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"ID":                 "DROVER:LAB:" + h.name,
		"Containers":         running + stopped,
		"ContainersRunning":  running,
		"ContainersPaused":   0,
		"ContainersStopped":  stopped,
		"Images":             images,
		"Driver":             "overlay2",
		"SystemTime":         time.Now().Format(time.RFC3339Nano),
		"LoggingDriver":      "json-file",
		"CgroupDriver":       "cgroupfs",
		"KernelVersion":      h.kernelVersion(),
		"OperatingSystem":    h.operatingSystem(),
		"OSVersion":          h.cfg.osVersion,
		"OSType":             h.cfg.platform.OS,
		"Architecture":       arch,
		"IndexServerAddress": "https://index.docker.io/v1/",
		"RegistryConfig":     h.registryConfig(),
		"NCPU":               runtime.NumCPU(),
		"MemTotal":           int64(8 << 30),
		"DockerRootDir":      "/var/lib/docker",
		"Name":               h.name,
		"Labels":             []string{},
		"ServerVersion":      engineVersion,
		"DefaultRuntime":     "runc",
		"Swarm":              map[string]any{"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": false, "Error": "", "RemoteManagers": nil},
		"SecurityOptions":    []string{},
	})
}

// kernelVersion is "lab", or for a Windows host of a known build what a
// Windows daemon reports: "10.0 17763 (17763.1.amd64fre.rs5_release.180914-1434)".
func (h *Host) kernelVersion() string {
	b := windowsBuild(h.cfg.osVersion)
	if h.cfg.platform.OS != "windows" || b == "" {
		return "lab"
	}
	parts := strings.Split(b, ".")
	return parts[0] + "." + parts[1] + " " + parts[2] + " (" + parts[2] + ".1.amd64fre.lab_release.260101-0000)"
}

func (h *Host) operatingSystem() string {
	if h.cfg.platform.OS == "windows" {
		return "Windows Server (Drover lab, simulated)"
	}
	return "Drover lab (simulated)"
}

// handleDF answers /system/df the API 1.41 way: every object type, images
// with container counts and shared sizes.
func (h *Host) handleDF(w http.ResponseWriter, r *http.Request, _, _ string) {
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	var layersSize int64
	for _, l := range s.layers {
		layersSize += l.size
	}
	images := s.summariesLocked(listFilter{all: true}, true)
	containers := s.containerSummariesLocked(true)
	writeJSON(w, http.StatusOK, map[string]any{
		"LayersSize":  layersSize,
		"Images":      images,
		"Containers":  containers,
		"Volumes":     []any{},
		"BuildCache":  nil,
		"BuilderSize": 0,
	})
}
