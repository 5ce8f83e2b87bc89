package fleet

import (
	"cmp"
	"context"
	"io"
	"iter"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"
)

// fleet is an in-memory set of fake engines for option and scheduling
// tests (the real daemon and the lab cover the protocol).
type fleet struct {
	mu       sync.Mutex
	inflight map[string]int // per registry
	maxIn    map[string]int
	total    int
	maxTotal int
	// pullTime is how long a pull takes (fake clock under synctest).
	pullTime time.Duration
	// failures makes the first n pulls of each host fail in-stream, with
	// failMsg ("unexpected EOF" when empty).
	failures int
	failMsg  string
	// pullErr, if set, is returned by every ImagePull call.
	pullErr error
	// hang makes every call block until its context ends.
	hang  bool
	hosts map[string]*fakeEngine
	// infos is each host's /info (default: linux, x86_64); infoErr, if
	// set, is every Info call's error.
	infos   map[string]system.Info
	infoErr error
	// noPlatform makes every pull fail in-stream as dockerd does for an
	// index without the host's platform.
	noPlatform string
}

func newFleet() *fleet {
	return &fleet{inflight: map[string]int{}, maxIn: map[string]int{}, hosts: map[string]*fakeEngine{}}
}

func (f *fleet) dial(_ context.Context, t Target) (Engine, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.hosts[t.Name]
	if !ok {
		e = &fakeEngine{f: f, name: t.Name, images: map[string]client.ImageInspectResult{}}
		f.hosts[t.Name] = e
	}
	return e, nil
}

type fakeEngine struct {
	Engine // unimplemented methods panic
	f      *fleet
	name   string
	images map[string]client.ImageInspectResult // guarded by f.mu
	pulls  int
	infos  int
	// pullOpts are the options of every pull, in order (guarded by f.mu).
	pullOpts []client.ImagePullOptions
}

func (e *fakeEngine) Close() error { return nil }

func (e *fakeEngine) Info(ctx context.Context, _ client.InfoOptions) (client.SystemInfoResult, error) {
	if e.f.hang {
		<-ctx.Done()
		return client.SystemInfoResult{}, ctx.Err()
	}
	e.f.mu.Lock()
	defer e.f.mu.Unlock()
	e.infos++
	if e.f.infoErr != nil {
		return client.SystemInfoResult{}, e.f.infoErr
	}
	info, ok := e.f.infos[e.name]
	if !ok {
		info = system.Info{OSType: "linux", Architecture: "x86_64"}
	}
	return client.SystemInfoResult{Info: info}, nil
}

func (e *fakeEngine) ImageInspect(ctx context.Context, ref string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	if e.f.hang {
		<-ctx.Done()
		return client.ImageInspectResult{}, ctx.Err()
	}
	e.f.mu.Lock()
	defer e.f.mu.Unlock()
	res, ok := e.images[ref]
	if !ok {
		return res, cerrdefs.ErrNotFound.WithMessage("No such image: " + ref)
	}
	return res, nil
}

func (e *fakeEngine) ImagePull(ctx context.Context, ref string, o client.ImagePullOptions) (client.ImagePullResponse, error) {
	e.f.mu.Lock()
	e.pullOpts = append(e.pullOpts, o)
	e.f.mu.Unlock()
	if e.f.pullErr != nil {
		return nil, e.f.pullErr
	}
	if e.f.noPlatform != "" {
		e.f.mu.Lock()
		e.pulls++
		e.f.mu.Unlock()
		return fakeStream{{Error: &jsonstream.Error{Message: "no matching manifest for " + e.f.noPlatform + " in the manifest list entries"}}}, nil
	}
	reg := registryOf(ref)
	f := e.f
	f.mu.Lock()
	f.inflight[reg]++
	f.maxIn[reg] = max(f.maxIn[reg], f.inflight[reg])
	f.total++
	f.maxTotal = max(f.maxTotal, f.total)
	e.pulls++
	fail := e.pulls <= f.failures
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inflight[reg]--
		f.total--
		f.mu.Unlock()
	}()
	if f.pullTime > 0 {
		select {
		case <-time.After(f.pullTime):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	msgs := []jsonstream.Message{
		{Status: "Pulling fs layer", ID: "aaaa"},
		{Status: "Downloading", ID: "aaaa", Progress: &jsonstream.Progress{Current: 512, Total: 1024}},
	}
	if fail {
		msg := cmp.Or(f.failMsg, "unexpected EOF")
		msgs = append(msgs, jsonstream.Message{Error: &jsonstream.Error{Message: msg}})
		return fakeStream(msgs), nil
	}
	msgs = append(msgs,
		jsonstream.Message{Status: "Downloading", ID: "aaaa", Progress: &jsonstream.Progress{Current: 1024, Total: 1024}},
		jsonstream.Message{Status: "Extracting", ID: "aaaa", Progress: &jsonstream.Progress{Current: 3, Units: "s"}},
		jsonstream.Message{Status: "Pull complete", ID: "aaaa"},
		jsonstream.Message{Status: "Status: Downloaded newer image for " + ref})
	f.mu.Lock()
	e.images[ref] = inspectFor(ref)
	f.mu.Unlock()
	return fakeStream(msgs), nil
}

func (e *fakeEngine) ImageTag(_ context.Context, o client.ImageTagOptions) (client.ImageTagResult, error) {
	e.f.mu.Lock()
	defer e.f.mu.Unlock()
	for _, im := range e.images {
		if im.ID == o.Source {
			e.images[o.Target] = im
			return client.ImageTagResult{}, nil
		}
	}
	return client.ImageTagResult{}, cerrdefs.ErrNotFound.WithMessage("No such image: " + o.Source)
}

func inspectFor(ref string) client.ImageInspectResult {
	var r client.ImageInspectResult
	r.ID = "sha256:" + ref[len(ref)-64:]
	r.RepoDigests = []string{ref}
	return r
}

type fakeStream []jsonstream.Message

func (fakeStream) Read([]byte) (int, error) { return 0, io.EOF }
func (fakeStream) Close() error             { return nil }
func (s fakeStream) Wait(context.Context) error {
	return nil
}

func (s fakeStream) JSONMessages(context.Context) iter.Seq2[jsonstream.Message, error] {
	return func(yield func(jsonstream.Message, error) bool) {
		for _, m := range s {
			if !yield(m, nil) {
				return
			}
		}
	}
}
