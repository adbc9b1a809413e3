package bench

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestRunLoadsTakeTurns(t *testing.T) {
	var mu sync.Mutex
	var order []int
	op := func(k int, fail bool) func(context.Context, int) error {
		return func(ctx context.Context, _ int) error {
			mu.Lock()
			if len(order) == 0 || order[len(order)-1] != k {
				order = append(order, k)
			}
			mu.Unlock()
			time.Sleep(time.Millisecond)
			if fail {
				return errors.New("failed")
			}
			return nil
		}
	}
	loads := runLoads(t.Context(), 2, 100*time.Millisecond, 20*time.Millisecond, op(0, false), op(1, true))
	// Five rounds each: the operations alternate at least nine times.
	if len(order) < 10 || order[0] != 0 || order[1] != 1 {
		t.Errorf("turns %v, want 0 and 1 alternating, five rounds each", order)
	}
	for k, l := range loads {
		if l.Concurrency != 2 || l.Calls < 20 || l.Throughput <= 0 {
			t.Errorf("load %d: %+v", k, l)
		}
		// Two workers, 1 ms a call: at most about 2000 calls a second.
		if l.Throughput > 2100 {
			t.Errorf("load %d: %.0f calls/s from two workers sleeping 1 ms a call", k, l.Throughput)
		}
	}
	if loads[0].Errors != 0 || loads[1].Errors != loads[1].Calls {
		t.Errorf("errors %d and %d, want 0 and all %d", loads[0].Errors, loads[1].Errors, loads[1].Calls)
	}
}
