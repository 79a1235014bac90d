#!/bin/sh
# gen.sh regenerates the Go code of every protocol version under providers/proto from
# its .proto file. `go generate ./providers/proto/...` runs it (see v1/generate.go).
#
# The generators are built from the versions go.mod pins (its tool lines), so the output
# is the same on every machine that has the same protoc; the committed files were made
# with protoc 3.21.12, whose version is written into their headers.
set -eu

cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
go build -o "$tmp/protoc-gen-go-grpc" google.golang.org/grpc/cmd/protoc-gen-go-grpc

want="libprotoc 3.21.12"
if [ "$(protoc --version)" != "$want" ]; then
	echo "gen.sh: warning: $(protoc --version) is not $want; generated headers will differ" >&2
fi

for dir in v*/; do
	protoc \
		--plugin=protoc-gen-go="$tmp/protoc-gen-go" \
		--plugin=protoc-gen-go-grpc="$tmp/protoc-gen-go-grpc" \
		-I . \
		--go_out=. --go_opt=paths=source_relative \
		--go-grpc_out=. --go-grpc_opt=paths=source_relative \
		"$dir"*.proto
done
