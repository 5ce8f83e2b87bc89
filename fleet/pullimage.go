package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/drover-dev/drover/internal/ctxsleep"
	"github.com/drover-dev/drover/inventory"
)

// image brings one image onto one host: check, pull (with retries and,
// if allowed, the fallback source), verify RepoDigests, tag.
func (p *puller) image(ctx context.Context, eng Engine, t Target, pl Platform, w Want) (ImageReport, error) {
	start := p.o.now()
	ir := ImageReport{Name: w.Name, Ref: w.Ref, Digest: w.Digest}
	done := func(err error) (ImageReport, error) {
		ir.Seconds = p.o.now().Sub(start).Seconds()
		if err != nil && ctx.Err() != nil && !errors.Is(err, ErrInterrupted) {
			err = fmt.Errorf("%w: %w", ErrInterrupted, err)
		}
		if err != nil {
			ir.Action = ActionFailed
			ir.Error = err.Error()
			p.emit(Progress{Host: t.Name, Image: w.Name, Phase: "failed", Err: ir.Error})
		}
		return ir, err
	}

	p.emit(Progress{Host: t.Name, Image: w.Name, Phase: "checking"})
	cell := p.check(ctx, eng, t, pl, w)
	ir.Platform = cell.Platform
	switch cell.State {
	case StatePresent:
		ir.Action = ActionPresent
		p.emit(Progress{Host: t.Name, Image: w.Name, Phase: "present"})
		return done(nil)
	case StateUnreachable, StateNoPlatform:
		return done(cell.err)
	case StateMissing, StateWrongDigest, StateWrongPlatform:
		// pull below
	}

	src := w
	var err error
	for attempt := 1; ; attempt++ {
		ir.Attempts = attempt
		var n, need int64
		n, need, err = p.pullOnce(ctx, eng, t, src, cell.entry, attempt)
		ir.Bytes += n
		if err == nil {
			break
		}
		if isPlatformMiss(err) {
			err = p.platformMiss(t, pl, w, err)
			break
		}
		var nr *noRoomError
		if errors.As(err, &nr) {
			err = p.o.checkPrune(ctx, t, w.Repository, &NoSpaceError{Host: t.Name, Env: t.Env, Image: w.Name, Need: nr.need, Downloaded: n, Free: nr.disk.Free, Prune: p.o.prune(t.Env, w.Repository), Err: nr})
			break
		}
		if isNoSpace(err) {
			err = p.o.checkPrune(ctx, t, w.Repository, &NoSpaceError{Host: t.Name, Env: t.Env, Image: w.Name, Need: need, Downloaded: n, Prune: p.o.prune(t.Env, w.Repository), Err: err})
			break
		}
		if isBlobUnknown(err) {
			err = fmt.Errorf("%w: %s lacks a layer of %s: %w (a Windows image's foreign layers are in a region's registry only when its registries.regions.%s.foreignLayers is mirror: set it and mirror the release again before pulling)",
				ErrNotInRegion, registryOf(src.Pull), w.Name, err, t.Region)
			break
		}
		if isNotFound(err) && src.Digest != "" {
			if p.o.fallback == "" || src.Pull != w.Pull {
				err = fmt.Errorf("%w: %s: %w", ErrNotInRegion, src.Pull, err)
				break
			}
			p.o.logger.Info("region registry lacks digest, pulling from the fallback source", "host", t.Name, "image", w.Name, "source", p.o.fallback)
			src = w.withRegistry(p.o.fallback)
			attempt--
			continue
		}
		if !retryable(ctx, err) || attempt > p.o.retries {
			break
		}
		wait := p.o.backoff(attempt)
		p.o.logger.Warn("pull failed, retrying", "host", t.Name, "image", w.Name, "attempt", attempt, "in", wait, "err", err)
		if serr := ctxsleep.Sleep(ctx, wait); serr != nil {
			err = errors.Join(err, serr)
			break
		}
	}
	if err != nil {
		return done(err)
	}
	ir.Source = registryOf(src.Pull)

	p.emit(Progress{Host: t.Name, Image: w.Name, Phase: "tagging"})
	if err := p.verifyAndTag(ctx, eng, src, w); err != nil {
		return done(err)
	}
	ir.Action = ActionPulled
	p.emit(Progress{Host: t.Name, Image: w.Name, Phase: "done", Current: ir.Bytes, Total: ir.Bytes})
	return done(nil)
}

// pullOnce is one attempt: wait for a registry slot, pull, read the
// stream. It returns the bytes downloaded and the sum of the layer sizes
// the daemon announced.
func (p *puller) pullOnce(ctx context.Context, eng Engine, t Target, src Want, entry inventory.LockManifest, attempt int) (n, total int64, err error) {
	reg := registryOf(src.Pull)
	p.emit(Progress{Host: t.Name, Image: src.Name, Phase: "waiting", Attempt: attempt})
	slot := p.slot(reg)
	if err := slot.Acquire(ctx, 1); err != nil {
		return 0, 0, err
	}
	defer slot.Release(1)

	actx, cancel := context.WithTimeout(ctx, p.o.timeout)
	defer cancel()
	actx, room := guardRoom(actx, t.Disk)
	defer room.done()
	popts := client.ImagePullOptions{}
	if entry.OS != "" {
		// By the index digest (what RepoDigests and the lock record), for
		// the entry's os/arch; a Windows daemon takes its own build's entry.
		popts.Platforms = []ocispec.Platform{{OS: entry.OS, Architecture: entry.Architecture, Variant: entry.Variant}}
	}
	if p.o.auth != nil {
		a, err := p.o.auth(actx, reg)
		if err != nil {
			return 0, 0, err
		}
		popts.RegistryAuth = a
	}
	p.emit(Progress{Host: t.Name, Image: src.Name, Phase: "pulling", Attempt: attempt})
	resp, err := eng.ImagePull(actx, src.Pull, popts)
	if err != nil {
		return 0, 0, p.callErr(ctx, actx, err)
	}
	n, err = consume(actx, resp, func(cur, tot int64) {
		total = tot
		p.emit(Progress{Host: t.Name, Image: src.Name, Phase: "pulling", Current: cur, Total: tot, Attempt: attempt})
		room.observe(tot)
	})
	_ = resp.Close()
	if nr := room.stopped(actx); err != nil && nr != nil {
		return n, total, nr
	}
	if err != nil {
		return n, total, p.callErr(ctx, actx, err)
	}
	return n, total, nil
}

// platformMiss is the daemon's answer that the index has nothing for its
// platform: a *PlatformError when the lock lists the index's entries.
func (p *puller) platformMiss(t Target, pl Platform, w Want, err error) error {
	if len(w.Entries) > 0 && pl.OS != "" {
		return &PlatformError{Host: t.Name, Env: t.Env, Image: w.short(), Platform: pl, Have: w.Entries}
	}
	return fmt.Errorf("%w: host %s: %w", ErrNoPlatform, t.Name, err)
}

// verifyAndTag checks the pulled image carries the digest, then tags it
// with the deploy reference.
func (p *puller) verifyAndTag(ctx context.Context, eng Engine, src, w Want) error {
	cctx, cancel := context.WithTimeout(ctx, p.o.timeout)
	defer cancel()
	res, err := eng.ImageInspect(cctx, src.Pull)
	if err != nil {
		return fmt.Errorf("inspect after pull: %w", p.callErr(ctx, cctx, err))
	}
	if w.Digest != "" && !hasDigest(res.RepoDigests, w.Repository, w.Digest) {
		return fmt.Errorf("%w: %s has RepoDigests %v, want %s", ErrDigestMismatch, src.Pull, res.RepoDigests, w.Digest)
	}
	if w.Ref == src.Pull {
		return nil
	}
	if _, err := eng.ImageTag(cctx, client.ImageTagOptions{Source: res.ID, Target: w.Ref}); err != nil {
		return fmt.Errorf("tag %s: %w", w.Ref, p.callErr(ctx, cctx, err))
	}
	return nil
}

// callErr names a cancelled run as interrupted, a per-call timeout as the
// host not answering in time and a connection failure as unreachable. A
// failure of the relay to a host reached through Rancher is its *relayError
// alone (ErrUnreachable when no connection was made), which names the host
// and its environment, not the moby client's error around it, which quotes
// a made-up address.
func (p *puller) callErr(parent, call context.Context, err error) error {
	if parent.Err() != nil { // the run was cancelled: not the host's fault
		return fmt.Errorf("%w: %w", ErrInterrupted, context.Cause(parent))
	}
	if errors.Is(call.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: no answer within %v", ErrUnreachable, p.o.timeout)
	}
	if re := (*relayError)(nil); errors.As(err, &re) {
		if client.IsErrConnectionFailed(err) {
			return unreachable{re}
		}
		return re
	}
	if client.IsErrConnectionFailed(err) {
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	return err
}

func isNotFound(err error) bool {
	if cerrdefs.IsNotFound(err) {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "manifest unknown") || strings.Contains(msg, "not found")
}

// isBlobUnknown reports a pull that failed because the registry lacks one
// of the image's layers: dockerd says "unknown blob" (distribution's
// ErrBlobUnknown), a registry's error code "blob unknown to registry".
// Mirroring pushes every layer before the manifest, so the usual cause is
// a foreign layer left at its URLs that the host does not or cannot fetch.
func isBlobUnknown(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "unknown blob") || strings.Contains(msg, "blob unknown")
}

// unreachable is err, which says itself why the host cannot be reached, as
// ErrUnreachable.
type unreachable struct{ err error }

func (e unreachable) Error() string   { return e.err.Error() }
func (e unreachable) Unwrap() []error { return []error{ErrUnreachable, e.err} }

// retryable: not when the run is cancelled, nor for answers a retry
// cannot change (auth, bad request, missing digest, wrong digest, a full
// disk, Rancher refusing the key the host's Docker socket or refusing its
// token, an unencrypted relay URL). A dropped relay and an agent that is
// away are retried.
func retryable(ctx context.Context, err error) bool {
	switch {
	case ctx.Err() != nil,
		errors.Is(err, ErrDigestMismatch), errors.Is(err, ErrNoSpace), errors.Is(err, ErrNoPlatform),
		Refused(err),
		cerrdefs.IsUnauthorized(err), cerrdefs.IsPermissionDenied(err),
		cerrdefs.IsInvalidArgument(err), cerrdefs.IsNotFound(err):
		return false
	}
	return true
}
