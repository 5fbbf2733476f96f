#!/usr/bin/env bash
# The project's two entry points and their shared set-up (called by the Makefile).
#
#   scripts/dev.sh run    set up, migrate, seed demo data into an empty store (TWOFOLD_SEED_DEMO=0: don't),
#                         start the projector, the payment-expiry saga, the Kafka relay and the API; prints
#                         the GraphiQL URL
#   scripts/dev.sh test   set up, then every check, fastest first, stopping at the first that fails: format,
#                         lint, types, import contracts, schema, contract; tests/unit; tests/integration; tests/e2e
#   scripts/dev.sh check  the inner loop: the static checks and tests/unit, no services needed
#   scripts/dev.sh setup  only the set-up: Python environment and local services
#   scripts/dev.sh bench  every benchmark, then the report: docs/benchmarks.{md,json}, docs/benchmarks/*.png
#   scripts/dev.sh bench-place-order|bench-projector|bench-lag|bench-search|bench-trivial|bench-dataset|
#                  bench-fairness|bench-round-trips|bench-customer-search|bench-rename|bench-relay|
#                  bench-subscriptions|bench-sustained
#                         one benchmark (scripts/bench/*.py)
#   scripts/dev.sh chaos  20 kill -9 of the projector (TWOFOLD_CHAOS_KILLS), 10 of the relay with a Kafka
#                         restart (TWOFOLD_CHAOS_RELAY_KILLS), delayed commits, a poison event, real restarts of
#                         PostgreSQL and Elasticsearch; ends with the summary table
#
# Set-up is idempotent: the virtualenv is rebuilt only when pyproject.toml or requirements.lock change,
# and running services are reused (scripts/services.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VENV=$ROOT/.venv
SHARED=${TWOFOLD_SHARED_DIR:-$ROOT/../shared}

say() { printf 'dev: %s\n' "$*" >&2; }
die() { printf 'dev: ERROR: %s\n' "$*" >&2; exit 1; }
# shellcheck source=scripts/_apt.sh
. "$ROOT/scripts/_apt.sh"

find_python() {
  local candidate
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

ensure_venv() {
  local python stamp want
  python=$(find_python) || die "Python 3.11 or newer is needed (Debian: apt-get install python3 python3-venv)"
  want=$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)
  stamp=$VENV/.twofold-installed
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV with $python"
    "$python" -m venv "$VENV" || die "could not create a virtualenv (Debian: apt-get install python3-venv)"
  fi
  say "installing Python packages (requirements.lock)"
  # --no-compile: Python compiles each module when it is first imported instead; compiling every module
  # of every package up front was a third of the install (17 of 57 s), before the first check could run.
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-compile -c requirements.lock -e '.[dev]'
  echo "$want" >"$stamp"
}

# GraphiQL's browser assets, from the npm registry (api/graphiql/package-lock.json): the API serves them
# itself, so the page needs no CDN. Reinstalled only when the lock file changes.
ensure_graphiql_assets() {
  local dir=$ROOT/api/graphiql want stamp
  command -v npm >/dev/null || apt_install nodejs npm
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  stamp=$dir/node_modules/.twofold-installed
  if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  say "installing GraphiQL's assets (npm ci)"
  (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) || die "npm ci failed in $dir"
  echo "$want" >"$stamp"
}

# The GraphiQL test drives Debian's chromium (never a browser downloaded by a test tool).
ensure_browser() {
  [ -x /usr/bin/chromium ] || apt_install chromium
}

ensure_services() {
  scripts/services.sh up
  eval "$(scripts/services.sh env)"
  export DATABASE_URL ELASTICSEARCH_URL KAFKA_BOOTSTRAP_SERVERS
}

cmd_setup() {
  ensure_venv
  ensure_graphiql_assets
  ensure_services
}

cmd_run() {
  cmd_setup
  "$VENV/bin/twofold" migrate
  if [ "${TWOFOLD_SEED_DEMO:-1}" != "0" ]; then
    # A newcomer's first query finds something: a small demo set, only into a store nothing was written to.
    "$VENV/bin/twofold" seed --if-empty --products 200 --customers 30 --orders 150 --seed 1
  fi
  "$VENV/bin/twofold" project &
  local projector=$!
  "$VENV/bin/twofold" saga &
  local saga=$!
  "$VENV/bin/twofold" relay &
  local relay=$!
  # The pids are written into the trap now: the trap runs after this function's locals are gone, so that
  # however `serve` ends (a port in use included), the projector, the saga and the relay go with it.
  # shellcheck disable=SC2064
  trap "kill $projector $saga $relay 2>/dev/null; wait $projector $saga $relay 2>/dev/null" EXIT
  trap 'exit 130' INT TERM
  "$VENV/bin/twofold" serve
}

# Everything that needs no service: format, lint, types, import contracts, schema, public contract.
run_static_checks() {
  local bin=$VENV/bin
  say "ruff format --check"
  "$bin/ruff" format --check .
  say "ruff check"
  "$bin/ruff" check .
  say "mypy (strict)"
  "$bin/mypy"
  say "import contracts"
  "$bin/lint-imports"
  say "served schema matches api/schema.graphql"
  "$bin/twofold" export-schema | diff -u api/schema.graphql - ||
    die "api/schema.graphql is stale: run '.venv/bin/twofold export-schema --output api/schema.graphql'"
  if [ -f "$SHARED/tools/check_contract.py" ]; then
    say "public contract"
    "$bin/python" "$SHARED/tools/check_contract.py" api/schema.graphql "$SHARED/contract.graphql"
    say "contract part: customers"
    "$bin/python" "$SHARED/tools/check_contract.py" --part customers api/schema.graphql
    say "contract part: journey"
    "$bin/python" "$SHARED/tools/check_contract.py" --part journey api/schema.graphql
    say "contract part: live"
    "$bin/python" "$SHARED/tools/check_contract.py" --part live api/schema.graphql
  elif [ -n "${CI:-}" ]; then
    die "$SHARED/tools/check_contract.py not found: CI must check the public contract"
  else
    say "skipping the public-contract check: $SHARED/tools/check_contract.py not found"
  fi
}

# One tier of the suite; the first tier that fails stops the test command.
run_tier() {
  local name=$1 started=$SECONDS
  shift
  say "pytest $name"
  "$VENV/bin/pytest" "$@" || die "the $name tests failed (the later tiers did not run)"
  say "$name tests passed in $((SECONDS - started)) s"
}

# The inner loop: the static checks and the unit tests, no services (under a minute).
cmd_check() {
  ensure_venv
  run_static_checks
  run_tier unit tests/unit "$@"
}

# Fastest failures first: static checks, then tests/unit, then tests/integration, then tests/e2e. The local
# services start in the background meanwhile, so a unit failure shows within seconds of the virtualenv.
# With arguments, one pytest run takes them instead (`scripts/dev.sh test -k outbox -x`).
cmd_test() {
  if [ $# -gt 0 ]; then
    cmd_setup
    ensure_browser
    say "pytest $*"
    "$VENV/bin/pytest" "$@"
    return
  fi
  ensure_venv
  local setup_log=$ROOT/test-output/setup.log setup
  mkdir -p "$ROOT/test-output"
  say "starting the local services and GraphiQL's assets in the background ($setup_log)"
  # Elasticsearch's start yields to the checks that run meanwhile: on two cores it would slow them by a third.
  (ensure_graphiql_assets && TWOFOLD_ES_START_NICE=10 scripts/services.sh up) >"$setup_log" 2>&1 &
  setup=$!
  run_static_checks
  run_tier unit tests/unit
  if ! wait "$setup"; then
    cat "$setup_log" >&2
    die "the services did not start (see above)"
  fi
  cat "$setup_log" >&2
  eval "$(scripts/services.sh env)"
  export DATABASE_URL ELASTICSEARCH_URL KAFKA_BOOTSTRAP_SERVERS
  run_tier integration tests/integration
  ensure_browser
  run_tier e2e tests/e2e
}

# The long fault suite; its summary table (faults injected, events written, events lost) ends the output and
# is kept in test-output/chaos/summary.md.
cmd_chaos() {
  cmd_setup
  TWOFOLD_CHAOS_KILLS=${TWOFOLD_CHAOS_KILLS:-20} TWOFOLD_CHAOS_RELAY_KILLS=${TWOFOLD_CHAOS_RELAY_KILLS:-10} \
    "$VENV/bin/pytest" -m "chaos or not chaos" \
    tests/integration/test_crash_recovery.py \
    tests/integration/test_relay_chaos.py \
    tests/integration/test_projection_under_concurrency.py::test_concurrent_writers_committing_out_of_order_lose_nothing \
    tests/integration/test_dead_letters.py::test_a_poison_event_is_parked_while_the_others_flow_then_retried_once_fixed \
    tests/integration/test_service_restarts.py "$@"
}

cmd_bench() {
  local script=$1
  shift
  cmd_setup
  "$VENV/bin/python" "scripts/bench/$script.py" "$@"
}

case "${1:-}" in
  setup) shift; cmd_setup "$@" ;;
  run) shift; cmd_run "$@" ;;
  test) shift; cmd_test "$@" ;;
  check) shift; cmd_check "$@" ;;
  bench-place-order) shift; cmd_bench place_order "$@" ;;
  bench-projector) shift; cmd_bench projector "$@" ;;
  bench-relay) shift; cmd_bench relay "$@" ;;
  bench-subscriptions) shift; cmd_bench subscriptions "$@" ;;
  bench-lag) shift; cmd_bench lag "$@" ;;
  bench-search) shift; cmd_bench search "$@" ;;
  bench-trivial) shift; cmd_bench trivial "$@" ;;
  bench-dataset) shift; cmd_bench dataset "$@" ;;
  bench-fairness) shift; cmd_bench fairness "$@" ;;
  bench-round-trips) shift; cmd_bench round_trips "$@" ;;
  bench-customer-search) shift; cmd_bench customer_search "$@" ;;
  bench-rename) shift; cmd_bench rename "$@" ;;
  bench-sustained) shift; cmd_bench sustained "$@" ;;
  bench) shift; cmd_bench suite "$@" ;;
  chaos) shift; cmd_chaos "$@" ;;
  *) echo "usage: $0 setup|run|test [pytest args]|check [pytest args]|chaos|bench|bench-place-order|bench-projector|bench-lag|bench-search|bench-trivial|bench-dataset|bench-fairness|bench-round-trips|bench-customer-search|bench-rename|bench-relay|bench-subscriptions|bench-sustained [options: --help]" >&2; exit 2 ;;
esac
