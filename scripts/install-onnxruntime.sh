#!/usr/bin/env bash
# Installs the ONNX Runtime native library that the local embedding model
# (go build -tags onnx; internal/embed) loads at run time: onnxruntime-node
# 1.20.1 from npm, pinned by third_party/onnxruntime/package-lock.json, ships
# it prebuilt. Only libonnxruntime.so is used. Prints the library's path, the
# value to give ONNXRUNTIME_LIB (the Go code also finds it there by default).
# Re-runs are no-ops until the lock file changes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-client-tools.sh" third_party/onnxruntime "onnxruntime" >&2

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) lib=bin/napi-v3/linux/x64/libonnxruntime.so.1.20.1 ;;
  Linux/aarch64) lib=bin/napi-v3/linux/arm64/libonnxruntime.so.1.20.1 ;;
  Darwin/arm64) lib=bin/napi-v3/darwin/arm64/libonnxruntime.1.20.1.dylib ;;
  Darwin/x86_64) lib=bin/napi-v3/darwin/x64/libonnxruntime.1.20.1.dylib ;;
  *) echo "onnxruntime: no prebuilt library for $(uname -s)/$(uname -m) in onnxruntime-node" >&2; exit 1 ;;
esac
path="$root/third_party/onnxruntime/node_modules/onnxruntime-node/$lib"
if [ ! -f "$path" ]; then
  echo "onnxruntime: $path is missing after the install; delete third_party/onnxruntime/node_modules and re-run" >&2
  exit 1
fi
echo "$path"
