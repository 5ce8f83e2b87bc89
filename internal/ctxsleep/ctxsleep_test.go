package ctxsleep

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func TestSleep(t *testing.T) {
	t.Parallel()
	cause := errors.New("gate timeout")
	for _, tc := range []struct {
		name     string
		d        time.Duration
		cancelAt time.Duration // 0: never
		cause    error
		wantErr  error
		wantWait time.Duration
	}{
		{name: "full wait", d: 3 * time.Second, wantWait: 3 * time.Second},
		{name: "zero", d: 0},
		{name: "negative", d: -time.Second},
		{name: "cancelled", d: time.Minute, cancelAt: time.Second, wantErr: context.Canceled, wantWait: time.Second},
		{name: "cause", d: time.Minute, cancelAt: 2 * time.Second, cause: cause, wantErr: cause, wantWait: 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancelCause(t.Context())
				defer cancel(nil)
				if tc.cancelAt > 0 {
					time.AfterFunc(tc.cancelAt, func() { cancel(tc.cause) })
				}
				start := time.Now()
				err := Sleep(ctx, tc.d)
				if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
					t.Errorf("Sleep(%v) = %v, want %v", tc.d, err, tc.wantErr)
				}
				if got := time.Since(start); got != tc.wantWait {
					t.Errorf("Sleep(%v) waited %v, want %v", tc.d, got, tc.wantWait)
				}
			})
		})
	}
}

func TestSleepEndedContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, d := range []time.Duration{0, time.Hour} {
		if err := Sleep(ctx, d); !errors.Is(err, context.Canceled) {
			t.Errorf("Sleep(%v) on an ended context = %v, want context.Canceled", d, err)
		}
	}
}
