package openaistore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/store/openaistore"
	"github.com/connectorhq/connector/internal/store/openaistore/openaitest"
)

// TestOnAttempt: every HTTP attempt is reported, retries numbered from the
// X-Stainless-Retry-Count header openai-go sends.
func TestOnAttempt(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	vs := syncDocs(t, srv, ingested([]store.Document{{ID: "a", Title: "A", Text: "alpha words"}}))
	var mu sync.Mutex
	var got []openaistore.Attempt
	st, _ := newStore(t, srv, vs, func(c *openaistore.Config) {
		c.OnAttempt = func(a openaistore.Attempt) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, a)
		}
	})
	srv.Fail("POST /vector_stores/*/search", 1, 429, map[string]string{"retry-after-ms": "1"})
	if _, err := st.Search(t.Context(), access.Everyone(), "alpha", 5); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Fetch(t.Context(), access.Everyone(), "a"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) < 3 {
		t.Fatalf("attempts %+v, want the 429, its retry and the fetch's", got)
	}
	if a := got[0]; a.Operation != "search" || a.Status != 429 || a.Retry != 0 || a.Duration <= 0 {
		t.Errorf("first attempt %+v, want search 429 retry 0", a)
	}
	if a := got[1]; a.Operation != "search" || a.Status != 200 || a.Retry != 1 {
		t.Errorf("second attempt %+v, want search 200 retry 1", a)
	}
	ops := map[string]bool{}
	for _, a := range got[2:] {
		ops[a.Operation] = true
	}
	if !ops["file_content"] {
		t.Errorf("fetch attempts %+v lack file_content", got[2:])
	}
}

// TestHungAttemptsAreRetried: an attempt that does not answer within
// Timeout is abandoned and retried, up to MaxRetries, while the caller's
// deadline allows; when every attempt hangs the error says the OpenAI API
// was slow.
func TestHungAttemptsAreRetried(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	vs := syncDocs(t, srv, ingested([]store.Document{{ID: "a", Title: "A", Text: "alpha words"}}))
	const search = "POST /vector_stores/*/search"
	searches := func() int { return len(srv.Requests(search)) }
	timedOut := func(t *testing.T, err error) {
		t.Helper()
		unavailable(t, err, "upstream_timeout", "the OpenAI API did not answer in time")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
		}
	}

	// Where an answer must come, Timeout leaves room for a slow test machine.
	t.Run("a hung attempt is retried", func(t *testing.T) {
		st, _ := newStore(t, srv, vs, func(c *openaistore.Config) { c.Timeout = 500 * time.Millisecond; c.MaxRetries = 2 })
		before := searches()
		srv.Hold(search, 1)
		hits, err := st.Search(t.Context(), access.Everyone(), "alpha", 5)
		if err != nil || len(hits) != 1 {
			t.Fatalf("Search = %v, %v; want the retry's answer", hits, err)
		}
		if n := searches() - before; n != 2 {
			t.Errorf("%d attempts, want the hung one and its retry", n)
		}
	})
	t.Run("a hung content page is retried", func(t *testing.T) {
		st, _ := newStore(t, srv, vs, func(c *openaistore.Config) { c.Timeout = 500 * time.Millisecond; c.MaxRetries = 1 })
		srv.Hold("GET /vector_stores/*/files/*/content", 1)
		if d, err := st.Fetch(t.Context(), access.Everyone(), "a"); err != nil || d.Text != "alpha words" {
			t.Fatalf("Fetch = %+v, %v", d, err)
		}
	})
	t.Run("every attempt hangs", func(t *testing.T) {
		st, _ := newStore(t, srv, vs, func(c *openaistore.Config) { c.Timeout = 100 * time.Millisecond; c.MaxRetries = 1 })
		before := searches()
		h := srv.Hold(search, 2)
		defer h.Release()
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		_, err := st.Search(ctx, access.Everyone(), "alpha", 5)
		timedOut(t, err)
		if ctx.Err() != nil {
			t.Errorf("the error came at the caller's deadline, not after the attempts")
		}
		if n := searches() - before; n != 2 {
			t.Errorf("%d attempts, want 1 + 1 retry", n)
		}
	})
	t.Run("no retry past the caller's deadline", func(t *testing.T) {
		// The first retry would wait at least 375ms (openai-go's backoff
		// of 0.5s less at most a quarter of jitter): past the deadline.
		st, _ := newStore(t, srv, vs, func(c *openaistore.Config) { c.Timeout = 100 * time.Millisecond; c.MaxRetries = 5 })
		before := searches()
		h := srv.Hold(search, 6)
		defer h.Release()
		ctx, cancel := context.WithTimeout(t.Context(), 250*time.Millisecond)
		defer cancel()
		_, err := st.Search(ctx, access.Everyone(), "alpha", 5)
		timedOut(t, err)
		if n := searches() - before; n != 1 {
			t.Errorf("%d attempts, want 1: no retry can start before the caller's deadline", n)
		}
	})
	t.Run("the caller's deadline comes before the attempt's", func(t *testing.T) {
		st, _ := newStore(t, srv, vs, func(c *openaistore.Config) { c.Timeout = time.Minute; c.MaxRetries = 2 })
		before := searches()
		h := srv.Hold(search, 3)
		defer h.Release()
		ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := st.Search(ctx, access.Everyone(), "alpha", 5)
		timedOut(t, err)
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("returned after %v, long past the caller's 150ms", d)
		}
		if n := searches() - before; n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
	})
	t.Run("fetch at the caller's deadline", func(t *testing.T) {
		st, _ := newStore(t, srv, vs, func(c *openaistore.Config) { c.Timeout = time.Minute; c.MaxRetries = 2 })
		h := srv.Hold("GET /vector_stores/*/files/*/content", 1)
		defer h.Release()
		ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
		defer cancel()
		_, err := st.Fetch(ctx, access.Everyone(), "a")
		timedOut(t, err)
	})
}
