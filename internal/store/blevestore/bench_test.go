package blevestore_test

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/bench"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/store/blevestore"
)

// sciFactStore indexes SciFact into a temporary folder and opens it; it
// also returns the collection and the documents' ids. It skips b when the
// collection is not present.
func sciFactStore(b *testing.B) (*blevestore.Store, *bench.Collection, []string) {
	c := sciFact(b)
	idx := b.TempDir()
	ids := indexCollection(b, c, idx)
	st, err := blevestore.Open(idx, access.DefaultAuthenticated, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st, c, ids
}

// sciFact loads SciFact, or skips b when it is not present.
func sciFact(b *testing.B) *bench.Collection {
	dir, _ := filepath.Abs("../../../../shared/data/scifact")
	if _, err := os.Stat(filepath.Join(dir, "corpus.jsonl")); err != nil {
		b.Skip("SciFact not present at " + dir)
	}
	c, err := bench.LoadBEIR(dir)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// indexCollection indexes c into the folder idx and returns its documents'
// ids.
func indexCollection(b *testing.B, c *bench.Collection, idx string) []string {
	ctx := context.Background()
	s, err := blevestore.NewSyncer(ctx, idx, blevestore.SyncOptions{})
	if err != nil {
		b.Fatal(err)
	}
	var ids []string
	if err := c.Docs(ctx, func(d store.SourceDocument) error {
		ids = append(ids, d.ID)
		_, err := s.Add(ctx, d)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	return ids
}

// BenchmarkIndexSciFact is indexing SciFact into a new folder, for
// profiling (connector-bench times the same):
//
//	go test -run '^$' -bench IndexSciFact -benchtime 5x -cpuprofile cpu.out ./internal/store/blevestore/
func BenchmarkIndexSciFact(b *testing.B) {
	c := sciFact(b)
	for b.Loop() {
		indexCollection(b, c, b.TempDir())
	}
}

// BenchmarkSearchSciFact is one store search (ranking and snippets, no MCP)
// of a SciFact query, for profiling:
//
//	go test -run '^$' -bench SearchSciFact -cpuprofile cpu.out ./internal/store/blevestore/
func BenchmarkSearchSciFact(b *testing.B) {
	st, c, _ := sciFactStore(b)
	ctx := context.Background()
	b.ResetTimer()
	b.Run("serial", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := st.Search(ctx, access.Everyone(), c.Queries[i%len(c.Queries)].Text, 10); err != nil {
				b.Fatal(err)
			}
		}
	})
	// As a verified caller: the same search with the access filter in the
	// query (every SciFact document is unlisted, so it passes them all).
	b.Run("filtered", func(b *testing.B) {
		who := access.NewCaller("u", "", []string{"eng"}, nil)
		for i := 0; b.Loop(); i++ {
			if _, err := st.Search(ctx, who, c.Queries[i%len(c.Queries)].Text, 10); err != nil {
				b.Fatal(err)
			}
		}
	})
	// 16 searches at once on two CPUs, as under the benchmark's heaviest load.
	b.Run("parallel", func(b *testing.B) {
		var next atomic.Int64
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(next.Add(1))
				if _, err := st.Search(ctx, access.Everyone(), c.Queries[i%len(c.Queries)].Text, 10); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkFetchSciFact fetches SciFact documents from the local store.
func BenchmarkFetchSciFact(b *testing.B) {
	st, _, ids := sciFactStore(b)
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		if _, err := st.Fetch(ctx, access.Everyone(), ids[i*7919%len(ids)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenSciFact is opening a SciFact index for serving, which reads
// every file of the generation once to check it against its checksums:
//
//	go test -run '^$' -bench OpenSciFact ./internal/store/blevestore/
func BenchmarkOpenSciFact(b *testing.B) {
	c := sciFact(b)
	idx := b.TempDir()
	indexCollection(b, c, idx)
	var size int64
	filepath.WalkDir(idx, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				size += fi.Size()
			}
		}
		return nil
	})
	for b.Loop() {
		st, err := blevestore.Open(idx, access.DefaultAuthenticated, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.Ready(context.Background()); err != nil {
			b.Fatal(err)
		}
		st.Close()
	}
	b.SetBytes(size)
}
