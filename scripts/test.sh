#!/usr/bin/env bash
# The whole test suite, as CI runs it (make test): installs what is missing, checks
# formatting, vet and generated code, runs every test and a bounded fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-60000x}

scripts/install-deps.sh

# The integration tests run against real services, which these scripts install (from
# Debian's packages) and start; a service that cannot start fails the run. Set
# FABRICA_SKIP_SERVICES=1 to run without them (their tests then skip, outside CI).
if [ "${FABRICA_SKIP_SERVICES:-}" != 1 ]; then
	echo "== services: PostgreSQL, Slurm (munge, slurmctld, 2 slurmd), PyTorch"
	scripts/pg-up.sh
	scripts/slurm-up.sh
	scripts/install-torch.sh
	trap 'scripts/slurm-down.sh || true; scripts/pg-down.sh || true' EXIT
	export FABRICA_REQUIRE_PG=1 FABRICA_REQUIRE_SLURM=1 FABRICA_REQUIRE_TORCH=1
fi

echo "== vet and gofmt"
$GO vet ./...
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then
	echo "gofmt needs to run on:"; echo "$unformatted"; exit 1
fi

echo "== generated code is up to date"
make -s generate
if ! git diff --exit-code --stat -- providers/proto docs/language-reference.md internal/hclsyntax/scan_tokens.go; then
	echo "generated files differ from the committed ones: run make generate and commit"
	exit 1
fi

echo "== tests"
$GO test -vet=off -count=1 ./...

echo "== fuzz (loader and evaluator, $FUZZTIME)"
$GO test -run='^$' -fuzz=FuzzLoad -fuzztime="$FUZZTIME" -fuzzminimizetime=1x ./planner/
# Each bounded by executions (about 10 s each here), not seconds: see FUZZTIME in the Makefile.
echo "== fuzz (the forked lexer against upstream's, 20000x)"
$GO test -run='^$' -fuzz=FuzzLexMatchesUpstream -fuzztime=20000x -fuzzminimizetime=1x ./internal/hclsyntax/
echo "== fuzz (the forked parser against upstream's, 3000x)"
$GO test -run='^$' -fuzz=FuzzParseMatchesUpstream -fuzztime=3000x -fuzzminimizetime=1x ./internal/hclsyntax/
echo "== fuzz (the quick parser against upstream's, 50000x)"
$GO test -run='^$' -fuzz=FuzzQuickParseMatchesUpstream -fuzztime=50000x -fuzzminimizetime=1x ./internal/hclsyntax/
