package openaistore_test

import (
	"sync"
	"testing"

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
	if _, err := st.Search(t.Context(), "alpha", 5); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Fetch(t.Context(), "a"); err != nil {
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
