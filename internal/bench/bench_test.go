package bench

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/connectorhq/connector/internal/store"
)

// TestRunSynthetic runs the whole benchmark on a small generated collection:
// it completes, finds the documents its queries come from, and reports
// every section.
func TestRunSynthetic(t *testing.T) {
	rep, err := Run(t.Context(), Options{Collection: Synthetic(300, 7), Duration: 150 * time.Millisecond, Concurrency: []int{1, 4}, LatencyCalls: 20})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Documents != 300 || rep.Quality.Queries == 0 || rep.Quality.Recall100 < 0.9 {
		t.Errorf("report %+v: want 300 documents and the generated queries' sources found", rep.Quality)
	}
	if rep.Search.Calls == 0 || rep.SearchConstant.Calls != rep.Search.Calls || len(rep.SearchFetchLoad) != 2 || len(rep.ConstantFetchLoad) != 2 || rep.ThroughputRatio <= 0 {
		t.Errorf("speed sections missing: %+v", rep)
	}
	var table, svg bytes.Buffer
	if err := rep.WriteTable(&table); err != nil || !strings.Contains(table.String(), "nDCG@10") {
		t.Errorf("table: %v\n%s", err, table.String())
	}
	if err := rep.WritePlot(&svg); err != nil || !strings.HasPrefix(strings.TrimSpace(svg.String()), "<?xml") {
		t.Errorf("plot: %v %.80s", err, svg.String())
	}
}

func TestSyntheticIsDeterministic(t *testing.T) {
	a, b := Synthetic(50, 3), Synthetic(50, 3)
	var da, db []string
	a.Docs(t.Context(), func(d store.SourceDocument) error { da = append(da, d.Text); return nil })
	b.Docs(t.Context(), func(d store.SourceDocument) error { db = append(db, d.Text); return nil })
	if strings.Join(da, "|") != strings.Join(db, "|") || len(da) != 50 {
		t.Fatal("same seed, different documents")
	}
	words := len(strings.Fields(strings.Join(da, " "))) / 50
	if words < 100 || words > 200 {
		t.Errorf("documents average %d words, want about 150", words)
	}
}

// TestLoadBEIRMissing: a folder that is not there is named as missing, with
// where collections come from.
func TestLoadBEIRMissing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "scifact")
	_, err := LoadBEIR(dir)
	if err == nil || !strings.Contains(err.Error(), dir+": the folder does not exist") ||
		!strings.Contains(err.Error(), "BEIR/datasets/scifact.zip") || !strings.Contains(err.Error(), "--synthetic") {
		t.Errorf("LoadBEIR(%s) = %v, want the folder named missing and where BEIR collections come from", dir, err)
	}
}
