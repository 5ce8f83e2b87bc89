package ranchersim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/drover-dev/drover/internal/lab/ranchersim"
)

// engine is a minimal ranchersim.Engine; the lab uses *dockersim.Host.
type engine struct {
	mu sync.Mutex
	n  int
}

func (e *engine) EnsureImage(context.Context, string, bool) error { return nil }
func (e *engine) CreateContainer(string, string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	return fmt.Sprint("c", e.n), nil
}
func (e *engine) StartContainer(string) error  { return nil }
func (e *engine) StopContainer(string) error   { return nil }
func (e *engine) RemoveContainer(string) error { return nil }

func Example() {
	ctx := context.Background()
	srv, err := ranchersim.Start(ctx)
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	dev := srv.AddProject("dev", ranchersim.Keys{Access: "AK", Secret: "SK"})
	dev.AddHost("host1", "10.0.0.1", map[string]string{"zone": "a"}, &engine{})
	svc, err := dev.AddService("web", "frontend", "registry.local/app:1.0", 2)
	if err != nil {
		panic(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := svc.WaitState(wctx, "active"); err != nil {
		panic(err)
	}

	// What a client sees.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet,
		srv.URL()+"/v2-beta/projects/"+dev.ID()+"/services?name=frontend&stackId="+svc.StackID(), nil)
	req.SetBasicAuth("AK", "SK")
	client := &http.Client{}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var coll struct {
		Data []struct {
			ID, State, HealthState string
			LaunchConfig           struct{ ImageUUID string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&coll); err != nil {
		panic(err)
	}
	s := coll.Data[0]
	fmt.Println(s.ID, s.State, s.HealthState, s.LaunchConfig.ImageUUID)
	// Output: 1s1 active healthy docker:registry.local/app:1.0
}
