//go:build onnx

package embed

import (
	"context"
	"os"
	"strings"
	"testing"
)

// benchLocal runs on the real model when EMBED_MODEL_DIR is set, else on a
// stand-in of the same shape and cost (random weights).
func benchLocal(b *testing.B) *Local {
	opts := LocalOptions{}
	if dir := realModelDirOrEmpty(); dir != "" {
		opts.ModelDir = dir
	} else {
		opts.ModelDir = toyDir(b, miniLMShapedModel())
	}
	return newToy(b, opts)
}

func realModelDirOrEmpty() string { return strings.TrimSpace(os.Getenv("EMBED_MODEL_DIR")) }

// passage is ~300 words, which truncate to 256 word pieces like most chunks.
func passage(i int) string {
	words := strings.Fields("the refund policy lets customers return items within thirty days of delivery for a full refund to the original payment method while the server listens on port eight thousand and logs each request")
	var sb strings.Builder
	for w := range 300 {
		sb.WriteString(words[(w*7+i)%len(words)])
		sb.WriteByte(' ')
	}
	return sb.String()
}

func BenchmarkLocalPassages(b *testing.B) {
	l := benchLocal(b)
	texts := make([]string, 32)
	for i := range texts {
		texts[i] = passage(i)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := l.Embed(context.Background(), texts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(texts))/b.Elapsed().Seconds(), "passages/s")
}

func BenchmarkLocalQuery(b *testing.B) {
	l := benchLocal(b)
	for b.Loop() {
		if _, err := l.Embed(context.Background(), []string{"how do I get my money back"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/query")
}
