package dockersocket

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// echoRelay serves a websocket that sends every message back as it came,
// reusing one buffer (its own allocations stay out of the count).
func echoRelay(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		defer c.CloseNow()
		buf := make([]byte, 64<<10)
		for {
			typ, rd, err := c.Reader(r.Context())
			if err != nil {
				return
			}
			n, err := io.ReadFull(rd, buf)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("echo: message of %d bytes: %v", n, err)
				return
			}
			if err := c.Write(r.Context(), typ, buf[:n]); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// TestConnFramingReusesBuffers: a round trip of a 1 KiB chunk (base64
// TEXT frame out, one back) allocates no per-message buffers in conn: it
// encodes into a reused buffer, reads each message into another, and
// decodes into the caller's or a reused one. Measured: 912 bytes per round
// trip, all the websocket library's; with a string and a new slice per
// message (EncodeToString, Read's ReadAll, DecodeString) it was 11 KiB.
func TestConnFramingReusesBuffers(t *testing.T) {
	ws, _, err := websocket.Dial(t.Context(), echoRelay(t), nil) //nolint:bodyclose // coder/websocket: the handshake body needs no closing
	if err != nil {
		t.Fatal(err)
	}
	c := newConn(ws, "echo", nil)
	defer c.Close()
	out := bytes.Repeat([]byte("docker api bytes "), 64)[:1024]
	small := make([]byte, 100) // smaller than a chunk: the rest waits in pending
	in := make([]byte, len(out))
	roundTrip := func() {
		if _, err := c.Write(out); err != nil {
			t.Fatal(err)
		}
		n, err := io.ReadFull(c, small)
		if err != nil {
			t.Fatal(err)
		}
		copy(in, small[:n])
		if _, err := io.ReadFull(c, in[n:]); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(in, out) {
			t.Fatalf("echoed %q, want %q", in, out)
		}
	}
	roundTrip() // the reused buffers' first growth
	const runs = 50
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		roundTrip()
	}
	runtime.ReadMemStats(&after)
	perTrip := (after.TotalAlloc - before.TotalAlloc) / runs
	t.Logf("%d bytes allocated per round trip (both ends, the websocket library's included)", perTrip)
	if perTrip > 2048 {
		t.Errorf("%d bytes allocated per 1 KiB round trip (both ends), want at most 2048: per-message buffers are back", perTrip)
	}
}
