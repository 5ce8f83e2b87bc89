package dockertest

import (
	"strings"
	"testing"

	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func testPullErrors(t *testing.T, target Target) {
	s := newSession(t, target)
	reg := StartRegistry(t, false)
	reg.Push(t, s.prefix+"/app:1.0", RandomImage(t, 1024, 1))
	s.cleanup("", reg.Ref(s.prefix+"/app:1.0"))
	tests := []struct {
		name, ref, want string
	}{
		{"missing tag", reg.Ref(s.prefix + "/app:nope"), "manifest for " + reg.Ref(s.prefix+"/app:nope") + " not found: manifest unknown"},
		{"missing digest", reg.Ref(s.prefix + "/app@sha256:" + strings.Repeat("0", 64)), "manifest for " + reg.Ref(s.prefix+"/app@sha256:"+strings.Repeat("0", 64)) + " not found: manifest unknown"},
		{"missing repository", reg.Ref(s.prefix + "/nothing:1"), "repository " + reg.Ref(s.prefix+"/nothing") + " not found: name unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, err := s.pull(tt.ref, client.ImagePullOptions{})
			if !isNotFound(err) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("pull %s = %v (stream %q), want HTTP 404 %q", tt.ref, err, statuses(msgs), tt.want)
			}
		})
	}
	t.Run("registry down", func(t *testing.T) {
		_, err := s.pull("127.0.0.1:1/"+s.prefix+"/app:1", client.ImagePullOptions{})
		if err == nil || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("pull from a closed port = %v, want connection refused", err)
		}
	})
}

func testMidStream(t *testing.T, target Target) {
	s := newSession(t, target)
	reg := StartRegistry(t, false)
	img := RandomImage(t, 32<<10, 2)
	ref := reg.Ref(s.prefix + "/corrupt/app:1")
	reg.Push(t, s.prefix+"/corrupt/app:1", img)
	s.cleanup("", ref)
	msgs, err := s.pull(ref, client.ImagePullOptions{})
	if err != nil {
		t.Fatalf("pull %s: HTTP error %v, want 200 and an errorDetail line", ref, err)
	}
	if len(msgs) < 2 || msgs[0].Status != "Pulling from "+remotePath(t, reg.Ref(s.prefix+"/corrupt/app")) {
		t.Fatalf("stream %q, want progress before the error", statuses(msgs))
	}
	last := msgs[len(msgs)-1]
	if last.Error == nil || !strings.Contains(last.Error.Message, "filesystem layer verification failed for digest sha256:") {
		t.Errorf("last message %+v, want errorDetail \"filesystem layer verification failed for digest ...\"", last)
	}
	if _, err := s.cli.ImageInspect(t.Context(), ref); !isNotFound(err) {
		t.Errorf("inspect after a failed pull = %v, want not found", err)
	}
}

func testIndex(t *testing.T, target Target) {
	s := newSession(t, target)
	reg := StartRegistry(t, false)
	idx, imgs := PlatformIndex(t, "linux/amd64", "linux/arm64")
	repo := reg.Ref(s.prefix + "/multi")
	reg.PushIndex(t, s.prefix+"/multi:1", idx)
	reg.PushIndex(t, s.prefix+"/multi:arm", idx)
	di := digestOf(t, idx)
	s.cleanup("", repo+":1", repo+":arm", repo+"@"+di)

	msgs := s.mustPull(repo + ":1")
	if st := statuses(msgs); st[len(st)-2] != "Digest: "+di {
		t.Errorf("index pull statuses %q, want the index digest %s", st, di)
	}
	got := s.inspect(repo + ":1")
	if got.ID != configDigest(t, imgs[0]) || got.Architecture != "amd64" {
		t.Errorf("index pull: Id %s arch %s, want the linux/amd64 image %s", got.ID, got.Architecture, configDigest(t, imgs[0]))
	}
	if len(got.RepoDigests) != 1 || got.RepoDigests[0] != repo+"@"+di {
		t.Errorf("index pull RepoDigests %q, want [%s@%s] (the index digest)", got.RepoDigests, repo, di)
	}

	msgs, err := s.pull(repo+":arm", client.ImagePullOptions{Platforms: []ocispec.Platform{{OS: "linux", Architecture: "arm64"}}})
	if err != nil {
		t.Fatalf("pull linux/arm64: %v", err)
	}
	if last := msgs[len(msgs)-1]; last.Error != nil {
		t.Fatalf("pull linux/arm64: %s", last.Error.Message)
	}
	if got := s.inspect(repo + ":arm"); got.ID != configDigest(t, imgs[1]) || got.Architecture != "arm64" {
		t.Errorf("platform pull: Id %s arch %s, want the linux/arm64 image %s", got.ID, got.Architecture, configDigest(t, imgs[1]))
	}

	// A platform the index lacks fails after "Pulling from".
	msgs, err = s.pull(repo+":1", client.ImagePullOptions{Platforms: []ocispec.Platform{{OS: "linux", Architecture: "s390x"}}})
	if err != nil {
		t.Fatalf("pull linux/s390x: HTTP error %v, want an errorDetail line", err)
	}
	const want = "no matching manifest for linux/s390x in the manifest list entries"
	if len(msgs) != 2 || msgs[0].Status != "Pulling from "+remotePath(t, repo) || msgs[1].Error == nil || msgs[1].Error.Message != want {
		t.Errorf("pull linux/s390x stream = %+v, want Pulling from, then errorDetail %q", msgs, want)
	}
}

func testAuth(t *testing.T, target Target) {
	s := newSession(t, target)
	reg := StartRegistry(t, true)
	ref := reg.Ref(s.prefix + "/private:1")
	reg.Push(t, s.prefix+"/private:1", RandomImage(t, 1024, 1))
	s.cleanup("", ref)

	msgs, err := s.pull(ref, client.ImagePullOptions{})
	if err == nil {
		t.Errorf("pull without credentials succeeded: %q", statuses(msgs))
	}
	_, err = s.pull(ref, client.ImagePullOptions{RegistryAuth: encodeAuth(t, User, "wrong", reg.Addr)})
	if err == nil {
		t.Errorf("pull with a wrong password succeeded")
	}
	msgs, err = s.pull(ref, client.ImagePullOptions{RegistryAuth: encodeAuth(t, User, Password, reg.Addr)})
	if err != nil {
		t.Fatalf("pull with credentials: %v", err)
	}
	if last := msgs[len(msgs)-1]; last.Error != nil || !strings.HasPrefix(last.Status, "Status: Downloaded newer image") {
		t.Errorf("pull with credentials ended with %+v", last)
	}
	s.inspect(ref)
}
