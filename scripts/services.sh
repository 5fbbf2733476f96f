#!/usr/bin/env bash
# Local PostgreSQL and Elasticsearch for development and tests.
#
#   scripts/services.sh up      install what is missing, start both, wait until they answer
#   scripts/services.sh down    stop both cleanly
#   scripts/services.sh status  say what runs
#   scripts/services.sh env     print the export lines for DATABASE_URL / ELASTICSEARCH_URL
#   scripts/services.sh restart elasticsearch|postgresql   stop one local service and start it again
#
# A service whose URL is already set (DATABASE_URL, ELASTICSEARCH_URL) is left alone: the project uses
# that one. Everything lives under .local/ (git ignores it), so a second `up` reuses what is there.
# Both servers refuse to run as root; as root this script runs them as the unprivileged user
# `twofold`, created on first use.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${TWOFOLD_STATE_DIR:-$ROOT/.local}
# .local may be a link to state kept outside the checkout (see prepare_state_dir): work on its target.
if [ -L "$STATE" ]; then STATE=$(readlink -f "$STATE"); fi
ES_VERSION=9.5.3
ES_ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip"
PG_PORT=${TWOFOLD_PG_PORT:-55432}
ES_PORT=${TWOFOLD_ES_PORT:-59200}
ES_HEAP=${TWOFOLD_ES_HEAP:-512m}
SERVICE_USER=twofold
LOCAL_DATABASE_URL="postgresql://twofold@127.0.0.1:${PG_PORT}/twofold"
LOCAL_ELASTICSEARCH_URL="http://127.0.0.1:${ES_PORT}"

say() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: ERROR: %s\n' "$*" >&2; exit 1; }

# shellcheck source=scripts/_apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/_apt.sh"

# Runs a command as the user that owns the servers' files.
as_service_user() {
  if is_root; then runuser -u "$SERVICE_USER" -- "$@"; else "$@"; fi
}

ensure_service_user() {
  is_root || return 0
  if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
    say "creating unprivileged user $SERVICE_USER"
    useradd --system --user-group --home-dir "$STATE" --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
  fi
}

prepare_state_dir() {
  if is_root && [ -z "${TWOFOLD_STATE_DIR:-}" ] && [ ! -e "$STATE" ] &&
    ! runuser -u "$SERVICE_USER" -- test -x "$ROOT"; then
    # The checkout lies below a folder the service user may not enter (e.g. /root): keep the state where
    # it can, and reach it through the usual .local link.
    local elsewhere
    elsewhere="/var/tmp/twofold-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
    say "$SERVICE_USER cannot enter $ROOT; keeping service state in $elsewhere (linked as .local)"
    mkdir -p "$elsewhere"
    ln -s "$elsewhere" "$STATE"
    STATE=$elsewhere
  fi
  mkdir -p "$STATE"
  if is_root; then
    chown "$SERVICE_USER:$SERVICE_USER" "$STATE/"
    runuser -u "$SERVICE_USER" -- test -w "$STATE/" ||
      die "user $SERVICE_USER cannot reach $STATE (a parent folder is not traversable); set TWOFOLD_STATE_DIR to a folder it can reach"
  fi
}

# ---------------------------------------------------------------- PostgreSQL

pg_bindir() {
  local best="" v
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] || continue
    v=$(basename "$(dirname "$dir")")
    if [ "${v%%.*}" -ge 13 ] && { [ -z "$best" ] || [ "${v%%.*}" -gt "$(basename "$(dirname "$best")")" ]; }; then
      best=$dir
    fi
  done
  printf '%s' "$best"
}

pg_up() {
  local bin data="$STATE/pg/data" run="$STATE/pg/run" log="$STATE/pg/postgres.log"
  bin=$(pg_bindir)
  if [ -z "$bin" ]; then
    apt_install postgresql
    bin=$(pg_bindir)
    [ -n "$bin" ] || die "PostgreSQL 13+ not found under /usr/lib/postgresql after installing it"
  fi
  as_service_user mkdir -p "$STATE/pg" "$run"
  if [ ! -f "$data/PG_VERSION" ]; then
    say "initdb $data"
    as_service_user "$bin/initdb" -D "$data" -U twofold --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if as_service_user "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    say "PostgreSQL already running on 127.0.0.1:$PG_PORT"
  else
    say "starting PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
    as_service_user "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$run -c max_connections=200" \
      >/dev/null || die "PostgreSQL did not start; see $log"
  fi
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 30 || die "PostgreSQL does not answer; see $log"
  if ! "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U twofold -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'twofold'" | grep -q 1; then
    "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U twofold -d postgres -qc "CREATE DATABASE twofold" >/dev/null
  fi
}

pg_down() {
  local bin data="$STATE/pg/data"
  bin=$(pg_bindir)
  [ -n "$bin" ] && [ -f "$data/PG_VERSION" ] || return 0
  if as_service_user "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    say "stopping PostgreSQL"
    as_service_user "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  fi
}

# ---------------------------------------------------------------- Elasticsearch

java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}' | cut -d. -f1
}

# Elasticsearch 9 has no bundled JDK in this distribution and needs Java 21 or newer.
find_java_home() {
  local best="" best_major=0 candidate major
  for candidate in "${ES_JAVA_HOME:-}" "${JAVA_HOME:-}" /usr/lib/jvm/* /opt/java/* /usr/local/lib/jvm/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
    major=$(java_major "$candidate/bin/java")
    [ -n "$major" ] || continue
    if [ "$major" -ge 21 ] && [ "$major" -gt "$best_major" ]; then
      best=$candidate
      best_major=$major
    fi
  done
  printf '%s' "$best"
}

es_home() { printf '%s' "$STATE/es/elasticsearch-$ES_VERSION"; }

# This distribution has no root endpoint (GET / answers 405), so ask for cluster health.
es_answers() { curl -fsS -m 2 "$LOCAL_ELASTICSEARCH_URL/_cluster/health" >/dev/null 2>&1; }

es_install() {
  local home zip dl="$STATE/downloads"
  home=$(es_home)
  [ -x "$home/bin/elasticsearch" ] && return 0
  command -v unzip >/dev/null || apt_install unzip
  zip="$dl/elasticsearch-$ES_VERSION.zip"
  if [ ! -f "$zip" ]; then
    command -v mvn >/dev/null || apt_install maven
    say "fetching Elasticsearch $ES_VERSION from Maven Central"
    mkdir -p "$dl"
    mvn -q dependency:copy -Dartifact="$ES_ARTIFACT" -DoutputDirectory="$dl" ||
      die "could not fetch $ES_ARTIFACT with Maven (is Maven Central reachable?)"
  fi
  say "unpacking Elasticsearch $ES_VERSION"
  as_service_user mkdir -p "$STATE/es"
  local tmp="$STATE/es/.unpack"
  rm -rf "$tmp"
  unzip -q "$zip" -d "$tmp"
  mv "$tmp/elasticsearch-$ES_VERSION" "$home"
  rm -rf "$tmp"
  is_root && chown -R "$SERVICE_USER:$SERVICE_USER" "$home"
  return 0
}

es_configure() {
  local conf="$STATE/es/config"
  as_service_user mkdir -p "$conf" "$STATE/es/data" "$STATE/es/logs" "$STATE/es/tmp"
  if [ ! -f "$conf/jvm.options" ]; then
    as_service_user cp -r "$(es_home)/config/." "$conf/"
  fi
  as_service_user tee "$conf/elasticsearch.yml" >/dev/null <<YAML
# Written by scripts/services.sh: a single local node for development and tests.
cluster.name: twofold-local
node.name: local
path.data: $STATE/es/data
path.logs: $STATE/es/logs
network.host: 127.0.0.1
http.port: $ES_PORT
transport.port: $((ES_PORT + 100))
discovery.type: single-node
cluster.routing.allocation.disk.threshold_enabled: false
# Loopback only, plain HTTP. Saying so explicitly also stops the launcher's first-start security
# auto-configuration, which would otherwise switch on TLS and passwords.
xpack.security.enabled: false
YAML
}

es_up() {
  if es_answers; then
    say "Elasticsearch already running on $LOCAL_ELASTICSEARCH_URL"
    return 0
  fi
  local java_home
  java_home=$(find_java_home)
  [ -n "$java_home" ] || die "Elasticsearch $ES_VERSION needs Java 21 or newer and none was found under /usr/lib/jvm; install a JDK 21+ (e.g. Temurin) there or set ES_JAVA_HOME"
  command -v curl >/dev/null || apt_install curl
  es_install
  es_configure
  say "starting Elasticsearch $ES_VERSION on $LOCAL_ELASTICSEARCH_URL (Java $(java_major "$java_home/bin/java"), heap $ES_HEAP)"
  # TWOFOLD_ES_START_NICE: the start (the JVM warming up, about a minute of CPU) yields to whatever runs
  # beside it, as the test command's checks do; once the node answers it runs at normal priority.
  as_service_user nice -n "${TWOFOLD_ES_START_NICE:-0}" \
    env ES_JAVA_HOME="$java_home" ES_PATH_CONF="$STATE/es/config" ES_TMPDIR="$STATE/es/tmp" \
    ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP" \
    "$(es_home)/bin/elasticsearch" -d -p "$STATE/es/elasticsearch.pid" >"$STATE/es/launcher.log" 2>&1 ||
    die "Elasticsearch did not start; see $STATE/es/launcher.log and $STATE/es/logs/"
  local waited=0
  until curl -fsS -m 2 "$LOCAL_ELASTICSEARCH_URL/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null 2>&1; do
    waited=$((waited + 1))
    [ "$waited" -le 120 ] || die "Elasticsearch did not answer within 120 s; see $STATE/es/logs/twofold-local.log"
    sleep 1
  done
  es_normal_priority
}

# Every thread of the node back to priority 0 (a thread's priority is its own on Linux; raising it back
# needs root, so as another user the node keeps the priority it started with).
es_normal_priority() {
  local pid
  [ "${TWOFOLD_ES_START_NICE:-0}" != "0" ] || return 0
  pid=$(cat "$STATE/es/elasticsearch.pid" 2>/dev/null || true)
  [ -n "$pid" ] && [ -d "/proc/$pid/task" ] || return 0
  renice -n 0 -p $(ls "/proc/$pid/task") >/dev/null 2>&1 || say "Elasticsearch keeps its start priority (renice needs root)"
}

es_down() {
  local pidfile="$STATE/es/elasticsearch.pid" pid
  pid=$(cat "$pidfile" 2>/dev/null || true)
  # Without a pid file (a start that raced another, a file removed by hand) find the node by its home.
  [ -n "$pid" ] || pid=$(pgrep -f -- "-Des.path.home=$(es_home)( |$)" | head -n 1 || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    say "stopping Elasticsearch"
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$pidfile"
}

# ---------------------------------------------------------------- commands

cmd_up() {
  if [ -n "${DATABASE_URL:-}" ] && [ -n "${ELASTICSEARCH_URL:-}" ]; then
    say "DATABASE_URL and ELASTICSEARCH_URL are set: using them, starting nothing"
    return 0
  fi
  ensure_service_user
  prepare_state_dir
  [ -n "${DATABASE_URL:-}" ] && say "DATABASE_URL is set: not starting PostgreSQL" || pg_up
  [ -n "${ELASTICSEARCH_URL:-}" ] && say "ELASTICSEARCH_URL is set: not starting Elasticsearch" || es_up
  say "ready"
}

cmd_down() {
  es_down
  pg_down
}

# Stops one local service and starts it again (the fault-injection tests use it).
cmd_restart() {
  ensure_service_user
  prepare_state_dir
  case "${1:-}" in
    elasticsearch) es_down; es_up ;;
    postgresql) pg_down; pg_up ;;
    *) die "restart elasticsearch|postgresql" ;;
  esac
}

cmd_status() {
  if es_answers; then echo "elasticsearch: up at $LOCAL_ELASTICSEARCH_URL"; else echo "elasticsearch: down"; fi
  local bin
  bin=$(pg_bindir)
  if [ -n "$bin" ] && "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
    echo "postgresql: up at 127.0.0.1:$PG_PORT"
  else
    echo "postgresql: down"
  fi
}

cmd_env() {
  echo "export DATABASE_URL=${DATABASE_URL:-$LOCAL_DATABASE_URL}"
  echo "export ELASTICSEARCH_URL=${ELASTICSEARCH_URL:-$LOCAL_ELASTICSEARCH_URL}"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  restart) shift; cmd_restart "$@" ;;
  *) echo "usage: $0 up|down|status|env|restart elasticsearch|postgresql" >&2; exit 2 ;;
esac
