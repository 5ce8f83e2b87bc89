package inventory

import (
	"fmt"
	"io"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/distribution/reference"
)

// LoadRelease reads a release file as strictly as Load reads an inventory
// (unknown and duplicate keys, wrong types, version: 1 required) and checks
// it on its own terms (see (*Release).Validate with a nil inventory).
func LoadRelease(path string) (*Release, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read release: %w", err)
	}
	defer f.Close()
	return ReadRelease(f, path)
}

// ReadRelease is LoadRelease from a reader; name is used in messages.
func ReadRelease(r io.Reader, name string) (*Release, error) {
	root, err := parseDocument(r, name) // at most MaxFileBytes
	if err != nil {
		return nil, err
	}
	if err := checkVersion(root, name, Version); err != nil {
		return nil, err
	}
	d := &decoder{file: name, pos: positions{"": root.Line}}
	var rel Release
	d.decode(root, reflect.ValueOf(&rel).Elem(), loc{})
	if len(d.errs) > 0 {
		return nil, joinSorted(d.errs)
	}
	rel.File = name
	rel.pos = d.pos
	if err := rel.Validate(nil); err != nil {
		return nil, err
	}
	return &rel, nil
}

// Validate checks the release and reports every problem at once (an
// errors.Join of *FieldError): images need a unique name and a unique
// reference with an explicit tag or digest; services are "stack/service",
// listed once, and name images of the release (sidekicks too). With an
// inventory, every environment a service names must exist in it.
func (rel *Release) Validate(inv *Inventory) error {
	var errs []error
	errorf := func(l loc, format string, args ...any) {
		errs = append(errs, &FieldError{File: rel.File, Line: rel.pos.line(l.key), Path: l.show, Msg: fmt.Sprintf(format, args...)})
	}
	if rel.Version != Version {
		errorf(loc{"version", "version"}, "unsupported version %d (this Drover reads version %d)", rel.Version, Version)
	}
	images := loc{"images", "images"}
	if len(rel.Images) == 0 {
		errorf(images, "at least one image is required")
	}
	names, refs := map[string]bool{}, map[string]bool{}
	for i, im := range rel.Images {
		l := images.index(i, im.Name)
		switch {
		case im.Name == "":
			errorf(l.field("name"), "required")
		case len(im.Name) > MaxNameBytes:
			errorf(l.field("name"), "%v", tooLong("image name", im.Name))
		case names[im.Name]:
			errorf(l.field("name"), "duplicate image %s", quote(im.Name))
		}
		if im.Name != "" {
			names[im.Name] = true
		}
		switch err := checkImageRef(im.Ref); {
		case err != nil:
			errorf(l.field("ref"), "%v", err)
		case refs[im.Ref]:
			errorf(l.field("ref"), "duplicate reference %s", clip(im.Ref))
		}
		refs[im.Ref] = true
	}
	services := loc{"services", "services"}
	seen := map[string]bool{}
	for i, s := range rel.Services {
		l := services.index(i, s.Service)
		stack, svc, ok := strings.Cut(s.Service, "/")
		switch {
		case len(s.Service) > 2*MaxNameBytes+1:
			errorf(l.field("service"), "%v", tooLong("service", s.Service))
		case !ok || stack == "" || svc == "" || strings.Contains(svc, "/"):
			errorf(l.field("service"), "want stack/service, got %s", quote(s.Service))
		case seen[s.Service]:
			errorf(l.field("service"), "duplicate service %s", quote(s.Service))
		}
		seen[s.Service] = true
		if !names[s.Image] {
			errorf(l.field("image"), "unknown image %s (images has: %s)", quote(s.Image), someOf(slices.Sorted(maps.Keys(names))))
		}
		for _, sk := range slices.Sorted(maps.Keys(s.Sidekicks)) {
			if !names[s.Sidekicks[sk]] {
				errorf(l.field("sidekicks").field(sk), "unknown image %s", quote(s.Sidekicks[sk]))
			}
		}
		envs := map[string]bool{}
		for j, e := range s.Environments {
			el := l.field("environments").index(j, "")
			switch {
			case envs[e]:
				errorf(el, "duplicate environment %s", quote(e))
			case inv != nil && inv.Env(e) == nil:
				errorf(el, "unknown environment %s (the inventory has: %s)", quote(e), someOf(inv.EnvNames()))
			}
			envs[e] = true
		}
	}
	return joinSorted(errs)
}

// ImageNames lists the release's image names in file order.
func (rel *Release) ImageNames() []string {
	out := make([]string, len(rel.Images))
	for i, im := range rel.Images {
		out[i] = im.Name
	}
	return out
}

// Image returns the release image called name, or nil.
func (rel *Release) Image(name string) *ReleaseImage {
	for i := range rel.Images {
		if rel.Images[i].Name == name {
			return &rel.Images[i]
		}
	}
	return nil
}

// ServicesFor lists the services that go to environment env (those naming
// it, and those naming no environment), in file order.
func (rel *Release) ServicesFor(env string) []ReleaseService {
	var out []ReleaseService
	for _, s := range rel.Services {
		if len(s.Environments) == 0 || slices.Contains(s.Environments, env) {
			out = append(out, s)
		}
	}
	return out
}

// checkImageRef accepts a full reference with an explicit tag or digest:
// a release never means an implicit :latest.
func checkImageRef(ref string) error {
	if ref == "" {
		return fmt.Errorf("required: the image reference at the source, e.g. build.example.com/team/app:1.4")
	}
	r, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return fmt.Errorf("%s: %s", quote(ref), clipN(err.Error(), 128)) // the parser's message may quote the reference
	}
	_, tagged := r.(reference.Tagged)
	_, digested := r.(reference.Digested)
	if !tagged && !digested {
		return fmt.Errorf("%s: needs a tag or digest (never an implicit :latest)", quote(ref))
	}
	return nil
}
