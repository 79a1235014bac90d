#!/usr/bin/env bash
# Installs, from Debian's packages, what the test suite needs beyond Go: protoc and
# ragel (the generated-code check) and GNU patch (the hclsyntax fork's check).
# Idempotent: installs only what is missing.
set -euo pipefail

need=()
command -v protoc >/dev/null 2>&1 || need+=(protobuf-compiler)
command -v ragel >/dev/null 2>&1 || need+=(ragel)
command -v patch >/dev/null 2>&1 || need+=(patch)

if [ ${#need[@]} -gt 0 ]; then
	echo "install-deps: installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
