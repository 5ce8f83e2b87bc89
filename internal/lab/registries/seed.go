package registries

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// SeedSpec says which images Seed pushes. Content is a pure function of the
// spec: the same spec always gives the same digests.
type SeedSpec struct {
	// Images are "repository:tag" references without a registry host,
	// e.g. "app:1.0", "app:1.1". Required.
	Images []string
	// Size is the approximate total layer size of one image (one platform)
	// in bytes. The default is 1 MiB.
	Size int64
	// Layers per image. The default is 4.
	Layers int
	// Base is how many leading layers all tags of a repository share (so a
	// second version moves only the rest). 0 means the default, Layers/2;
	// a negative value shares none.
	Base int
	// MultiArch, if set, is pushed as a Docker manifest list holding a
	// linux/amd64 and a windows/amd64 image. It may be one of Images or an
	// extra reference.
	MultiArch string
	// WindowsBuilds, if set, makes every image of Images and Foreign (not
	// MultiArch) a Docker manifest list: linux/amd64 and one windows/amd64
	// entry per Windows os.version given ("10.0.17763.6054"), as a Windows
	// image built for several Windows Server releases is. The Windows
	// entries reuse the linux entry's layers (only their configs differ), so
	// the list costs about what one image costs to mirror and to pull.
	WindowsBuilds []string
	// Foreign, if set, gets a first layer that is foreign (non-distributable,
	// application/vnd.docker.image.rootfs.foreign.diff.tar.gzip, like
	// Windows base layers): not pushed; its URL points at the seeded
	// registry's /lab/foreign/ path, which every lab registry serves. It may
	// be one of Images or an extra reference. The image is linux/amd64 (with
	// WindowsBuilds, a list whose Windows entries share that layer), but
	// note that a Linux dockerd never follows foreign URLs (only Windows
	// daemons do): it pulls this image only from a registry holding the
	// blob. go-containerregistry refuses URLs on private addresses.
	Foreign string
	// Username and Password, when set, authenticate with HTTP Basic.
	Username, Password string
	// Jobs bounds concurrent blob uploads per image. The default is 4.
	Jobs int
}

// Seeded describes one pushed reference.
type Seeded struct {
	Ref        string // as in the spec: "app:1.0"
	Repository string // "app"
	Tag        string // "1.0"
	// Digest is the manifest's (or, for MultiArch, the manifest list's)
	// digest: "sha256:...".
	Digest    string
	MediaType string
	// Layers are the layer digests of the image (linux/amd64 for MultiArch),
	// base first; Size is their total (the foreign layer included).
	Layers []string
	Size   int64
	// Platforms is "linux/amd64" for an image; both platforms for MultiArch.
	Platforms []string
	// ForeignURLs lists where the foreign layer is served (Foreign only).
	ForeignURLs []string
}

func (s SeedSpec) withDefaults() (SeedSpec, error) {
	var errs []error
	if len(s.Images) == 0 && s.MultiArch == "" && s.Foreign == "" {
		errs = append(errs, errors.New("no images"))
	}
	if s.Size == 0 {
		s.Size = 1 << 20
	}
	if s.Layers == 0 {
		s.Layers = 4
	}
	if s.Jobs == 0 {
		s.Jobs = 4
	}
	switch {
	case s.Base == 0:
		s.Base = s.Layers / 2
	case s.Base < 0:
		s.Base = 0
	}
	if s.Size < 0 || s.Layers < 0 || s.Jobs < 0 {
		errs = append(errs, fmt.Errorf("negative size %d, layers %d or jobs %d", s.Size, s.Layers, s.Jobs))
	}
	if s.Base > s.Layers {
		errs = append(errs, fmt.Errorf("base %d exceeds layers %d", s.Base, s.Layers))
	}
	if (s.Username == "") != (s.Password == "") {
		errs = append(errs, errors.New("username and password go together"))
	}
	return s, errors.Join(errs...)
}

// refs is every reference to push, in order, each once.
func (s SeedSpec) refs() []string {
	out := slices.Clone(s.Images)
	for _, r := range []string{s.MultiArch, s.Foreign} {
		if r != "" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// Seed pushes spec's images to the registry at addr ("127.0.0.1:port",
// plain HTTP) and describes what it pushed. Pushing twice is cheap: blobs
// and manifests already present are skipped.
func Seed(ctx context.Context, addr string, spec SeedSpec) ([]Seeded, error) {
	spec, err := spec.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("seed %s: %w", addr, err)
	}
	auth := authn.Anonymous
	if spec.Username != "" {
		auth = &authn.Basic{Username: spec.Username, Password: spec.Password}
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuth(auth), remote.WithJobs(spec.Jobs)}
	var out []Seeded
	for _, ref := range spec.refs() {
		s, err := seedOne(addr, ref, spec, opts)
		if err != nil {
			return out, fmt.Errorf("seed %s/%s: %w", addr, ref, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func seedOne(addr, ref string, spec SeedSpec, opts []remote.Option) (Seeded, error) {
	tag, err := name.NewTag(addr+"/"+ref, name.Insecure, name.StrictValidation)
	if err != nil {
		return Seeded{}, err
	}
	s := Seeded{Ref: ref, Repository: tag.RepositoryStr(), Tag: tag.TagStr(), Platforms: []string{"linux/amd64"}}
	img, err := buildImage(addr, s.Repository, s.Tag, "linux", spec, ref == spec.Foreign)
	if err != nil {
		return Seeded{}, err
	}
	if err := describeImage(img, &s); err != nil {
		return Seeded{}, err
	}
	if len(spec.WindowsBuilds) > 0 && ref != spec.MultiArch {
		return seedWindowsIndex(tag, img, spec.WindowsBuilds, s, opts)
	}
	if ref != spec.MultiArch {
		if err := remote.Write(tag, img, opts...); err != nil {
			return Seeded{}, err
		}
		d, _ := img.Digest() // computed by describeImage
		s.Digest, s.MediaType = d.String(), string(types.DockerManifestSchema2)
		return s, nil
	}
	win, err := buildImage(addr, s.Repository, s.Tag, "windows", spec, false)
	if err != nil {
		return Seeded{}, err
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.DockerManifestList),
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: win, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "windows", Architecture: "amd64", OSVersion: windowsVersion}}},
	)
	if err := remote.WriteIndex(tag, idx, opts...); err != nil {
		return Seeded{}, err
	}
	d, err := idx.Digest()
	if err != nil {
		return Seeded{}, err
	}
	s.Digest, s.MediaType = d.String(), string(types.DockerManifestList)
	s.Platforms = append(s.Platforms, "windows/amd64")
	return s, nil
}

const windowsVersion = "10.0.17763.6054"

// seedWindowsIndex pushes img as the linux/amd64 entry of a manifest list
// with one windows/amd64 entry per build, each img's layers under a
// windows config of that os.version.
func seedWindowsIndex(tag name.Tag, img v1.Image, builds []string, s Seeded, opts []remote.Option) (Seeded, error) {
	adds := []mutate.IndexAddendum{{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}}}
	for _, b := range builds {
		cf, err := img.ConfigFile()
		if err != nil {
			return Seeded{}, err
		}
		cf = cf.DeepCopy()
		cf.OS, cf.OSVersion = "windows", b
		win, err := mutate.ConfigFile(img, cf)
		if err != nil {
			return Seeded{}, err
		}
		adds = append(adds, mutate.IndexAddendum{Add: win, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "windows", Architecture: "amd64", OSVersion: b}}})
		s.Platforms = append(s.Platforms, "windows/amd64:"+b)
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.DockerManifestList), adds...)
	if err := remote.WriteIndex(tag, idx, opts...); err != nil {
		return Seeded{}, err
	}
	d, err := idx.Digest()
	if err != nil {
		return Seeded{}, err
	}
	s.Digest, s.MediaType = d.String(), string(types.DockerManifestList)
	return s, nil
}

// buildImage assembles one platform's image. Layer keys decide content:
// base layers are keyed by repository (shared by its tags), the rest by
// repository and tag; windows layers get their own keys.
func buildImage(addr, repo, tag, osName string, spec SeedSpec, foreign bool) (v1.Image, error) {
	cfg := &v1.ConfigFile{
		Architecture: "amd64",
		OS:           osName,
		Created:      v1.Time{Time: epoch},
		Config: v1.Config{
			Cmd:    []string{"/bin/lab"},
			Labels: map[string]string{"org.drover.lab.ref": repo + ":" + tag},
		},
	}
	if osName == "windows" {
		cfg.OSVersion = windowsVersion
	}
	img, err := mutate.ConfigFile(empty.Image, cfg)
	if err != nil {
		return nil, err
	}
	per := spec.Size / int64(max(spec.Layers, 1))
	fileSize := max(per-2048, 0) // tar header, padding and trailer fill the rest
	keyRepo, keyTag := keyPart(repo), keyPart(tag)
	adds := make([]mutate.Addendum, 0, spec.Layers)
	for i := range spec.Layers {
		key := fmt.Sprintf("%s/%s/%s/%d", osName, keyRepo, keyTag, i)
		if i < spec.Base {
			key = fmt.Sprintf("%s/%s/base/%d", osName, keyRepo, i)
		}
		add := mutate.Addendum{Layer: newGenLayer(key, fileSize, types.DockerLayer), MediaType: types.DockerLayer}
		if foreign && i == 0 {
			key = "foreign/" + key
			add.Layer = newGenLayer(key, fileSize, types.DockerForeignLayer)
			add.MediaType = types.DockerForeignLayer
			add.URLs = []string{foreignURL(addr, key, fileSize)}
		}
		adds = append(adds, add)
	}
	return mutate.Append(img, adds...)
}

func describeImage(img v1.Image, s *Seeded) error {
	m, err := img.Manifest()
	if err != nil {
		return err
	}
	for _, l := range m.Layers {
		s.Layers = append(s.Layers, l.Digest.String())
		s.Size += l.Size
		s.ForeignURLs = append(s.ForeignURLs, l.URLs...)
	}
	return nil
}

// keyPart makes a reference part safe inside a layer key (and URL path).
func keyPart(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return '-'
	}, s)
}
