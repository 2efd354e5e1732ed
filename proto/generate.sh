#!/usr/bin/env bash
# Regenerates Sources/TollgateWire/Generated/ from proto/*.proto.
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift built from swift-protobuf
# at the version Package.swift names; set PROTOC_GEN_SWIFT to its path.
set -euo pipefail
cd "$(dirname "$0")/.."
plugin="${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}"
if [ -z "$plugin" ]; then
  echo "protoc-gen-swift not found: build it with" >&2
  echo "  git clone --branch 1.39.0 https://github.com/apple/swift-protobuf && cd swift-protobuf && swift build -c release --product protoc-gen-swift" >&2
  echo "then run PROTOC_GEN_SWIFT=/path/to/.build/release/protoc-gen-swift $0" >&2
  exit 1
fi
mkdir -p Sources/TollgateWire/Generated
protoc --plugin=protoc-gen-swift="$plugin" \
  --swift_out=Sources/TollgateWire/Generated --swift_opt=Visibility=Public \
  -I proto proto/tollgate.proto
echo "generated Sources/TollgateWire/Generated/tollgate.pb.swift"
