//go:build !onnx

package embed

import (
	"strings"
	"testing"
)

func TestEmbedLocalNeedsOnnx(t *testing.T) {
	e, err := New(Config{Provider: "local"})
	if e != nil || err == nil {
		t.Fatalf("New(local) = %v, %v; want an error", e, err)
	}
	for _, w := range []string{"-tags onnx", "scripts/install-onnxruntime.sh", "ONNX Runtime"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q does not say %s", err, w)
		}
	}
}
