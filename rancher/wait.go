package rancher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Condition decides whether a wait is over. It returns done when the service
// is where the caller wants it, or an error to end the wait early (that
// error is returned as is).
type Condition func(*Service) (done bool, err error)

// StateIs is met when the service is in one of states and not transitioning
// (transitioning is not "yes"). It never fails: a service with
// transitioning "error" keeps being waited for; wrap it in FailOnError to
// stop on that.
func StateIs(states ...string) Condition {
	return func(s *Service) (bool, error) {
		return slices.Contains(states, s.State) && s.Transitioning != TransitioningYes, nil
	}
}

// TransitionError is a service whose process failed (transitioning "error").
type TransitionError struct {
	ID, Name, State, Message string
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("rancher: service %s (%s) in state %s: transitioning error: %s", e.Name, e.ID, e.State, e.Message)
}

// FailOnError wraps cond so that a service with transitioning "error" ends
// the wait with a *TransitionError (checked before cond).
func FailOnError(cond Condition) Condition {
	return func(s *Service) (bool, error) {
		if s.Transitioning == TransitioningError {
			return false, &TransitionError{ID: s.ID, Name: s.Name, State: s.State, Message: s.TransitioningMessage}
		}
		return cond(s)
	}
}

// WaitState waits until the service is in one of states, not
// transitioning. It is WaitFor(ctx, svc, StateIs(states...)).
func (c *Client) WaitState(ctx context.Context, svc *Service, states ...string) (*Service, error) {
	return c.WaitFor(ctx, svc, StateIs(states...))
}

// WaitFor waits until cond is met by the service and returns the service as
// last read. The context's deadline is the timeout; on expiry the error
// wraps ctx.Err() and names the state the service was last seen in.
//
// It subscribes to the project's resource.change events (one websocket per
// project and Client, shared by all waiters), reads the service once, then
// evaluates cond on every event for it. An event that meets cond (or makes
// it fail) is confirmed with a GET, whose result decides. The service is
// also re-read after every (re)connect of the websocket and at the poll
// interval (WithPollInterval; by default, while the socket is up, 10s after
// the last read, then 20s, 40s, up to a minute, back to 10s after a
// reconnect: flat in the wait's length; 1s while the socket is down or with
// WithEventStream(false)). Network errors, 5xx,
// 408, 409 and 429 answers while waiting are retried until the deadline;
// other 4xx answers (404: the service is gone) end the wait. A failed read is
// retried after 100ms, doubling up to 5s (or the poll interval if shorter).
func (c *Client) WaitFor(ctx context.Context, svc *Service, cond Condition) (*Service, error) {
	if cond == nil {
		return nil, errors.New("rancher: WaitFor: nil condition")
	}
	self, err := c.selfURL(&svc.Resource, "services")
	if err != nil {
		return nil, err
	}
	w, release := c.subscribe(projectOf(&svc.Resource), svc.ID)
	defer release()
	var events <-chan json.RawMessage
	if w != nil {
		events = w.ch
	}

	cur, lastErr := svc, error(nil)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	read, failures, polls := true, 0, 0
	for {
		if read {
			read = false
			next := c.pollInterval(w, polls)
			var s Service
			err := c.call(ctx, http.MethodGet, self, nil, &s)
			switch {
			case err == nil:
				cur, lastErr, failures = &s, nil, 0
				done, cerr := cond(&s)
				if cerr != nil {
					return &s, cerr
				}
				if done {
					return &s, nil
				}
			case ctx.Err() != nil:
				return cur, c.waitErr(ctx, cur, lastErr)
			case permanent(err):
				return cur, fmt.Errorf("wait for service %s (%s): %w", cur.Name, svc.ID, err)
			default:
				// A failed read may have been the confirmation of the last
				// event: retry it soon, not at the next poll (no event may
				// come again once the service rests).
				lastErr, failures = err, failures+1
				next = min(next, readRetryDelay(failures))
				c.log.Debug("rancher: wait: read failed, retrying", "service", svc.ID, "err", err, "in", next)
			}
			timer.Reset(next)
		}
		select {
		case <-ctx.Done():
			return cur, c.waitErr(ctx, cur, lastErr)
		case <-timer.C:
			read, polls = true, polls+1
		case raw := <-events:
			switch {
			case raw == nil: // (re)connected: re-read, poll from the start
				read, polls = true, 0
				continue
			case len(raw) == 0: // disconnected: poll at the faster pace now
				timer.Reset(c.pollInterval(w, 0))
				continue
			}
			var s Service
			if err := json.Unmarshal(raw, &s); err != nil || s.ID != svc.ID {
				read = true
				continue
			}
			cur = &s
			// An event is a hint: cond met (or failed) on it is confirmed by a
			// GET, so a late event can never end the wait.
			if done, cerr := cond(&s); done || cerr != nil {
				read = true
			}
		}
	}
}

// readRetryDelay is the pause before re-reading a service after the n-th
// failed read in a row: 100ms, doubling, at most 5s.
func readRetryDelay(n int) time.Duration {
	return min(100*time.Millisecond<<min(n-1, 6), 5*time.Second)
}

// pollInterval is WithPollInterval's value if given, else the slow fallback
// poll while the websocket is up (backing off with the polls made since the
// last connect) and a faster one while it is not.
func (c *Client) pollInterval(w *waiter, polls int) time.Duration {
	if p := c.opts.pollInterval; p != 0 {
		return p
	}
	if w.streaming() {
		return min(DefaultPollInterval<<min(polls, 8), DefaultPollIntervalMax)
	}
	return DefaultPollIntervalNoEvents
}

func (c *Client) waitErr(ctx context.Context, cur *Service, lastErr error) error {
	err := fmt.Errorf("wait for service %s (%s): last seen %s (transitioning %s %s): %w",
		cur.Name, cur.ID, cur.State, cur.Transitioning, cur.TransitioningMessage, ctx.Err())
	if lastErr != nil {
		err = fmt.Errorf("%w; last read error: %w", err, lastErr)
	}
	return err
}

// permanent reports whether a read error will not go away by retrying:
// a 4xx other than 408, 409 and 429.
func permanent(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.Status {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooManyRequests:
		return false
	}
	return ae.Status >= 400 && ae.Status < 500
}
