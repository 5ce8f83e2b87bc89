package fleet

import (
	"context"
	"errors"
	"fmt"

	"github.com/drover-dev/drover/inventory"
)

// ServiceImages lists the image references an environment runs now: every
// service's launch config image (sidekicks included) and each service's
// previous image from its last in-service upgrade, so that a rollback on a
// recycled host finds its image too. RancherImages implements it over the
// Rancher client.
type ServiceImages interface {
	EnvironmentImages(ctx context.Context, env string) ([]string, error)
}

// Seed is the host-recycle hook: it fills one (new) host with the images
// its environment runs now, read from src (nil skips Rancher), plus the
// lock's images when lock is not nil. Rancher's references are pulled as
// given (they are what Rancher will create containers from); lock images
// are pulled by digest and tagged, as Pull does. The Report's host is
// ready only when every image is present.
func Seed(ctx context.Context, host Target, src ServiceImages, lock *inventory.Lock, opts ...Option) (*Report, error) {
	var wants []Want
	seen := map[string]bool{}
	add := func(w Want) {
		if !seen[w.Ref] {
			seen[w.Ref] = true
			wants = append(wants, w)
		}
	}
	if src != nil {
		refs, err := src.EnvironmentImages(ctx, host.Env)
		if err != nil {
			return nil, fmt.Errorf("seed %s: images of environment %s: %w", host.Name, host.Env, err)
		}
		var errs []error
		for _, r := range refs {
			w, err := RefWant(r)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			add(w)
		}
		if err := errors.Join(errs...); err != nil {
			return nil, fmt.Errorf("seed %s: %w", host.Name, err)
		}
	}
	for _, w := range WantsFor(host, lock) {
		add(w)
	}
	if len(wants) == 0 {
		return nil, fmt.Errorf("seed %s: environment %s runs no images and no lock was given", host.Name, host.Env)
	}
	return PullWants(ctx, []Target{host}, func(Target) []Want { return wants }, opts...)
}
