//go:build !onnx

package embed

import "errors"

// newLocal is the local provider of a binary built without the onnx tag:
// the model cannot run, and the error says how to build one that can. The
// onnx build's local.go has the same signature.
func newLocal(Config) (Embedder, error) {
	return nil, errors.New("EMBEDDINGS=local needs the connector built with -tags onnx and ONNX Runtime installed: run scripts/install-onnxruntime.sh, then go run -tags onnx ./cmd/connector")
}
