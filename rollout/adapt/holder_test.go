package adapt

import (
	"strings"
	"testing"
	"time"

	"github.com/drover-dev/drover/rancher/lease"
)

// TestHolderTextShown: rollout status prints a lease holder's fields,
// which any Rancher user can write: each is clipped and a terminal escape
// or newline in it is shown as spaces (it was printed as sent).
func TestHolderTextShown(t *testing.T) {
	t.Parallel()
	evil := "\x1b[2J\x1b]0;pwned\a\nops@" + strings.Repeat("h", 1<<20)
	got := HolderText(lease.Holder{Info: lease.Info{Who: evil, Where: evil, Command: "rollout apply", Since: time.Unix(0, 0)}, ID: "1go1"})
	if len(got) > 2048 || strings.ContainsAny(got, "\x1b\a\n") || !strings.Contains(got, "ops@hhh") {
		t.Errorf("HolderText is %d bytes: %.200q", len(got), got)
	}
}
