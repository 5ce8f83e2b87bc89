package dockersim

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// APIVersion is the Engine API version the simulated hosts speak: that of
// dockerd 20.10, the daemon this lab stands in for. It is sent as the
// Api-Version header on every response.
const APIVersion = "1.41"

const (
	minAPIVersion = "1.12"
	engineVersion = "20.10.24-drover-lab"
)

var versionPrefix = regexp.MustCompile(`^/v([0-9]+)\.([0-9]+)(/.*)$`)

// tracker counts running handlers so Close can wait for them; once closed it
// admits no more.
type tracker struct {
	mu     sync.Mutex
	n      int
	closed bool
	idle   *sync.Cond
}

func (h *Host) routes() http.Handler {
	inner := h.faults.Wrap(http.HandlerFunc(h.serve))
	tr := &tracker{}
	tr.idle = sync.NewCond(&tr.mu)
	h.waitHandlers = func() {
		tr.mu.Lock()
		tr.closed = true
		for tr.n > 0 {
			tr.idle.Wait()
		}
		tr.mu.Unlock()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.mu.Lock()
		if tr.closed {
			tr.mu.Unlock()
			http.Error(w, "server closed", http.StatusServiceUnavailable)
			return
		}
		tr.n++
		tr.mu.Unlock()
		defer func() {
			tr.mu.Lock()
			tr.n--
			if tr.n == 0 {
				tr.idle.Broadcast()
			}
			tr.mu.Unlock()
		}()
		inner.ServeHTTP(w, r)
	})
}

func (h *Host) serve(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Api-Version", APIVersion)
	hdr.Set("Docker-Experimental", "false")
	hdr.Set("Ostype", h.cfg.platform.OS)
	hdr.Set("Server", "Docker/"+engineVersion+" ("+h.cfg.platform.OS+")")

	p := r.URL.Path
	version := APIVersion
	if m := versionPrefix.FindStringSubmatch(p); m != nil {
		version = m[1] + "." + m[2]
		p = m[3]
		if versionLess(APIVersion, version) {
			writeError(w, errorf(http.StatusBadRequest, "client version %s is too new. Maximum supported API version is %s", version, APIVersion))
			return
		}
		if versionLess(version, minAPIVersion) {
			writeError(w, errorf(http.StatusBadRequest, "client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", version, minAPIVersion))
			return
		}
	}
	route, handler := h.match(r.Method, p)
	h.countRequest(route)
	if handler == nil {
		writeError(w, errorf(http.StatusNotFound, "page not found"))
		return
	}
	handler(w, r, p, version)
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, path, version string)

// match routes a version-less path. Image names go into paths raw, so they
// contain '/', ':' and '@': the suffix decides.
func (h *Host) match(method, p string) (string, handlerFunc) {
	switch {
	case p == "/_ping" && (method == http.MethodGet || method == http.MethodHead):
		return method + " /_ping", h.handlePing
	case p == "/version" && method == http.MethodGet:
		return "GET /version", h.handleVersion
	case p == "/info" && method == http.MethodGet:
		return "GET /info", h.handleInfo
	case p == "/system/df" && method == http.MethodGet:
		return "GET /system/df", h.handleDF
	case p == "/images/create" && method == http.MethodPost:
		return "POST /images/create", h.handlePull
	case p == "/images/json" && method == http.MethodGet:
		return "GET /images/json", h.handleImageList
	case strings.HasPrefix(p, "/images/") && strings.HasSuffix(p, "/json") && method == http.MethodGet:
		return "GET /images/{name}/json", h.handleInspect
	case strings.HasPrefix(p, "/images/") && strings.HasSuffix(p, "/tag") && method == http.MethodPost:
		return "POST /images/{name}/tag", h.handleTag
	case strings.HasPrefix(p, "/images/") && method == http.MethodDelete:
		return "DELETE /images/{name}", h.handleImageDelete
	case p == "/containers/json" && method == http.MethodGet:
		return "GET /containers/json", h.handleContainerList
	case p == "/containers/create" && method == http.MethodPost:
		return "POST /containers/create", h.handleContainerCreate
	case strings.HasPrefix(p, "/containers/") && strings.HasSuffix(p, "/start") && method == http.MethodPost:
		return "POST /containers/{id}/start", h.handleContainerStart
	case strings.HasPrefix(p, "/containers/") && strings.HasSuffix(p, "/stop") && method == http.MethodPost:
		return "POST /containers/{id}/stop", h.handleContainerStop
	case strings.HasPrefix(p, "/containers/") && strings.Count(p, "/") == 2 && method == http.MethodDelete:
		return "DELETE /containers/{id}", h.handleContainerDelete
	}
	return method + " " + p, nil
}

// versionLess compares "major.minor" API versions.
func versionLess(a, b string) bool {
	am, an := splitVersion(a)
	bm, bn := splitVersion(b)
	return am < bm || (am == bm && an < bn)
}

func splitVersion(v string) (int, int) {
	maj, min, _ := strings.Cut(v, ".")
	a, _ := strconv.Atoi(maj)
	b, _ := strconv.Atoi(min)
	return a, b
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers like dockerd: {"message": ...} with the error's status.
func writeError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	var ae *apiError
	if errors.As(err, &ae) {
		status = ae.status
	}
	writeJSON(w, status, map[string]string{"message": err.Error()})
}

func boolParam(r *http.Request, name string) bool {
	v := strings.ToLower(r.URL.Query().Get(name))
	return v != "" && v != "0" && v != "false" && v != "no"
}
