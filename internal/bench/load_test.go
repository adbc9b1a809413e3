package bench

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectorhq/connector/internal/ingest"
	"github.com/connectorhq/connector/internal/store"
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

func TestTypicalDocument(t *testing.T) {
	var empty typicalDocument
	if got := empty.store(); got != defaultConstant {
		t.Errorf("no documents: %+v, want the default constant store", got)
	}
	var typ typicalDocument
	for i := range 5000 {
		typ.add(ingest.Document{Document: store.Document{
			Title: strings.Repeat("t", 1+i%101), // median length 51
			Text:  strings.Repeat("x", 10*(1+i%201)),
		}})
	}
	c := typ.store()
	if len(c.title) < 41 || len(c.title) > 61 || len(c.text) < 810 || len(c.text) > 1210 {
		t.Errorf("title %d, text %d bytes; want about the medians, 51 and 1010", len(c.title), len(c.text))
	}
	if c != typ.store() {
		t.Error("two calls differ")
	}
	hits, _ := c.Search(t.Context(), "q", 3)
	if len(hits) != 3 || hits[0].Title != c.title || len([]rune(hits[0].Snippet)) != 302 {
		t.Errorf("hits %+v", hits)
	}
	doc, _ := c.Fetch(t.Context(), "const-1")
	if doc.ID != "const-1" || doc.Text != c.text {
		t.Errorf("fetch %+v", doc)
	}
}

// Calls under way when a round ends are finished and counted, not
// cancelled.
func TestRunLoadsFinishCallsUnderWay(t *testing.T) {
	var cancelled atomic.Int64
	loads := runLoads(t.Context(), 4, 10*time.Millisecond, 10*time.Millisecond, func(ctx context.Context, _ int) error {
		select {
		case <-time.After(40 * time.Millisecond):
			return nil
		case <-ctx.Done():
			cancelled.Add(1)
			return ctx.Err()
		}
	})
	if l := loads[0]; l.Calls != 4 || l.Errors != 0 || cancelled.Load() != 0 {
		t.Errorf("%+v, %d cancelled; want the 4 calls under way finished and counted", l, cancelled.Load())
	}
}
