package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectorhq/connector/internal/access"
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

// TestSerialLatenciesTakeTurns checks that the latency measurement calls
// each operation as often, one call at a time, in turns of a round, each
// with the same query indexes, and stops at an error.
func TestSerialLatenciesTakeTurns(t *testing.T) {
	var calls []string
	op := func(name string) func(context.Context, int) error {
		return func(_ context.Context, i int) error {
			calls = append(calls, name+strconv.Itoa(i))
			return nil
		}
	}
	lat, err := serialLatencies(t.Context(), 5, 2, op("a"), op("b"))
	if err != nil {
		t.Fatal(err)
	}
	want := "a0 a1 b0 b1 a2 a3 b2 b3 a4 b4"
	if got := strings.Join(calls, " "); got != want {
		t.Errorf("calls %s, want %s", got, want)
	}
	if len(lat) != 2 || len(lat[0]) != 5 || len(lat[1]) != 5 {
		t.Errorf("latencies %v: want five of each", lat)
	}

	fail := func(_ context.Context, i int) error {
		if i == 1 {
			return errors.New("call failed")
		}
		return nil
	}
	if _, err := serialLatencies(t.Context(), 4, 2, op("a"), fail); err == nil || err.Error() != "call failed" {
		t.Errorf("error %v, want the failed call's", err)
	}
}

// TestTypicalAnswer checks that the constant store answers with the search
// answer nearest the queries' mean size, and the document nearest the mean
// size of their first hits.
func TestTypicalAnswer(t *testing.T) {
	ctx := t.Context()
	if c, err := typicalAnswer(ctx, sizedStore{}, []Query{{ID: "q", Text: "0"}}); err != nil || !reflect.DeepEqual(c, defaultConstant) {
		t.Errorf("nothing found: %+v, %v; want the default constant store", c, err)
	}
	var queries []Query
	for i := range 5 {
		queries = append(queries, Query{ID: strconv.Itoa(i), Text: strconv.Itoa([]int{3, 1, 5, 2, 4}[i])})
	}
	c, err := typicalAnswer(ctx, sizedStore{}, queries)
	if err != nil {
		t.Fatal(err)
	}
	hits, _ := c.Search(ctx, access.Everyone(), "anything", 3)
	if len(hits) != 3 || hits[0].Snippet != strings.Repeat("s", 30) || hits[0].ID != "const-0" || hits[2].ID != "const-2" {
		t.Errorf("search: %+v; want query 3's snippets, as const-0, const-1, const-2", hits)
	}
	doc, _ := c.Fetch(ctx, access.Everyone(), "const-1")
	if doc.ID != "const-1" || doc.Text != strings.Repeat("x", 300) || doc.Metadata["n"] != "3" {
		t.Errorf("fetch: %+v; want the first hit of query 3", doc)
	}
	if _, err := typicalAnswer(ctx, sizedStore{}, []Query{{ID: "bad", Text: "x"}}); err == nil {
		t.Error("a failing search: no error")
	}
}

// TestTypicalAnswerSciFact checks, on SciFact, that the constant store's
// answers carry as much text as the local store's do over the load's
// queries (sizes as typicalAnswer counts them; -v prints them).
func TestTypicalAnswerSciFact(t *testing.T) {
	c, st, constant := sciFactStore(t)
	ctx := t.Context()
	var search, fetch [2]float64 // local, constant
	for _, q := range c.Queries {
		for k, s := range []store.Store{st, constant} {
			hits, err := s.Search(ctx, access.Everyone(), q.Text, 10)
			if err != nil || len(hits) == 0 {
				t.Fatalf("query %s: %d hits, %v", q.ID, len(hits), err)
			}
			d, err := s.Fetch(ctx, access.Everyone(), hits[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			search[k] += float64(hitsSize(hits)) / float64(len(c.Queries))
			fetch[k] += float64(docSize(d)) / float64(len(c.Queries))
		}
	}
	t.Logf("mean bytes a search: local %.0f, constant %.0f; a fetch: local %.0f, constant %.0f", search[0], search[1], fetch[0], fetch[1])
	if math.Abs(search[1]/search[0]-1) > 0.02 || math.Abs(fetch[1]/fetch[0]-1) > 0.02 {
		t.Error("the constant store's answers differ in size from the local store's by more than 2%")
	}
}

// sizedStore answers query "n" with n hits whose snippets are 10n bytes,
// and fetches document "n/0" as 100n bytes of text; other queries fail.
type sizedStore struct{ constantStore }

func (sizedStore) Search(_ context.Context, _ access.Caller, q string, limit int) ([]store.Hit, error) {
	n, err := strconv.Atoi(q)
	if err != nil {
		return nil, err
	}
	var hits []store.Hit
	for i := range min(n, limit) {
		hits = append(hits, store.Hit{ID: fmt.Sprintf("%d/%d", n, i), Snippet: strings.Repeat("s", 10*n)})
	}
	return hits, nil
}

func (sizedStore) Fetch(_ context.Context, _ access.Caller, id string) (*store.Document, error) {
	n, _ := strconv.Atoi(strings.TrimSuffix(id, "/0"))
	return &store.Document{ID: id, Text: strings.Repeat("x", 100*n), Metadata: map[string]string{"n": strconv.Itoa(n)}}, nil
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
