#!/usr/bin/env bash
# Local PostgreSQL, Elasticsearch and Apache Kafka for development and tests.
#
#   scripts/services.sh up      install what is missing, start all three, wait until they answer
#   scripts/services.sh down    stop them cleanly
#   scripts/services.sh status  say what runs
#   scripts/services.sh env     print the export lines for DATABASE_URL / ELASTICSEARCH_URL / KAFKA_BOOTSTRAP_SERVERS
#   scripts/services.sh restart elasticsearch|postgresql|kafka   stop one local service and start it again
#   scripts/services.sh gc elasticsearch   a full garbage collection of the local node; prints the bytes
#                                          its heap holds after it (a benchmark's measure of its memory)
#
# A service whose URL is already set (DATABASE_URL, ELASTICSEARCH_URL, KAFKA_BOOTSTRAP_SERVERS) is left
# alone: the project uses that one. Everything lives under .local/ (git ignores it), so a second `up`
# reuses what is there. The servers refuse to run as root (Kafka is held to the same rule); as root this
# script runs them as the unprivileged user `twofold`, created on first use.
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
# Apache Kafka in KRaft mode (one node, broker and controller), from its Maven Central jars alone.
KAFKA_VERSION=4.1.1
LOG4J_VERSION=2.24.3
KAFKA_PORT=${TWOFOLD_KAFKA_PORT:-59092}
KAFKA_CONTROLLER_PORT=$((KAFKA_PORT + 100))
KAFKA_HEAP=${TWOFOLD_KAFKA_HEAP:-256m}
LOCAL_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:${KAFKA_PORT}"
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

# The newest JDK of at least Java $1 (default 21: Elasticsearch 9 has no bundled JDK in this distribution
# and needs 21 or newer; Kafka 4 needs 17).
find_java_home() {
  local minimum=${1:-21} best="" best_major=0 candidate major
  for candidate in "${ES_JAVA_HOME:-}" "${JAVA_HOME:-}" /usr/lib/jvm/* /opt/java/* /usr/local/lib/jvm/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
    major=$(java_major "$candidate/bin/java")
    [ -n "$major" ] || continue
    if [ "$major" -ge "$minimum" ] && [ "$major" -gt "$best_major" ]; then
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
# Expired points in time are freed within seconds, not up to a minute later (docs/operations.md).
search.keep_alive_interval: 5s
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

# ---------------------------------------------------------------- Apache Kafka

kafka_libs() { printf '%s' "$STATE/kafka/libs-$KAFKA_VERSION"; }
kafka_pidfile() { printf '%s' "$STATE/kafka/kafka.pid"; }

# Whether something accepts connections on 127.0.0.1:$1.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

kafka_pid() {
  local pid
  pid=$(cat "$(kafka_pidfile)" 2>/dev/null || true)
  # Without a pid file (removed by hand) find the broker by its configuration file.
  [ -n "$pid" ] || pid=$(pgrep -f -- "kafka.Kafka $STATE/kafka/config/server.properties" | head -n 1 || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && printf '%s' "$pid"
  return 0
}

kafka_answers() { [ -n "$(kafka_pid)" ] && port_taken "$KAFKA_PORT"; }

# The broker's jars and their runtime dependencies, with a log4j binding so that its logs go somewhere,
# resolved by Maven from a pom written here.
kafka_install() {
  local libs dl="$STATE/downloads" tmp
  libs=$(kafka_libs)
  [ -f "$libs/kafka_2.13-$KAFKA_VERSION.jar" ] && return 0
  command -v mvn >/dev/null || apt_install maven
  say "fetching Apache Kafka $KAFKA_VERSION and its dependencies from Maven Central"
  mkdir -p "$dl"
  cat >"$dl/kafka-$KAFKA_VERSION.pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>twofold.local</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
POM
  tmp="$STATE/kafka/.libs"
  as_service_user mkdir -p "$STATE/kafka"
  rm -rf "$tmp"
  mvn -q -f "$dl/kafka-$KAFKA_VERSION.pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$tmp" || die "could not fetch Apache Kafka $KAFKA_VERSION with Maven (is Maven Central reachable?)"
  mv "$tmp" "$libs"
  is_root && chown -R "$SERVICE_USER:$SERVICE_USER" "$libs"
  return 0
}

kafka_configure() {
  local conf="$STATE/kafka/config"
  as_service_user mkdir -p "$conf" "$STATE/kafka/data" "$STATE/kafka/logs"
  as_service_user tee "$conf/server.properties" >/dev/null <<PROPERTIES
# Written by scripts/services.sh: one local node, broker and controller (KRaft, no ZooKeeper).
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$STATE/kafka/data
# One node: every internal topic has one replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# Topics are created by the relay, with the partitions it is configured for.
auto.create.topics.enable=false
PROPERTIES
  as_service_user tee "$conf/log4j2.yaml" >/dev/null <<YAML
Configuration:
  Appenders:
    RollingFile:
      name: server
      fileName: $STATE/kafka/logs/server.log
      filePattern: $STATE/kafka/logs/server.log.%i
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
      SizeBasedTriggeringPolicy:
        size: 20MB
      DefaultRolloverStrategy:
        max: 3
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: server
YAML
}

# Formats the storage once (StorageTool), with a cluster id of its own.
kafka_format() {
  local java=$1
  [ -f "$STATE/kafka/data/meta.properties" ] && return 0
  local cluster
  cluster=$(as_service_user "$java" -cp "$(kafka_libs)/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
  [ -n "$cluster" ] || die "Kafka's StorageTool could not make a cluster id; see above"
  as_service_user "$java" -cp "$(kafka_libs)/*" -Dlog4j2.configurationFile="$STATE/kafka/config/log4j2.yaml" \
    kafka.tools.StorageTool format -t "$cluster" -c "$STATE/kafka/config/server.properties" >/dev/null ||
    die "Kafka's storage could not be formatted in $STATE/kafka/data"
}

kafka_up() {
  if kafka_answers; then
    say "Kafka already running on $LOCAL_KAFKA_BOOTSTRAP_SERVERS"
    return 0
  fi
  local port
  for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    port_taken "$port" && die "port $port is in use by another program: stop it, or set TWOFOLD_KAFKA_PORT (the controller takes that port + 100)"
  done
  local java_home
  java_home=$(find_java_home 17)
  [ -n "$java_home" ] || die "Kafka $KAFKA_VERSION needs Java 17 or newer and none was found under /usr/lib/jvm; install a JDK there or set JAVA_HOME"
  kafka_install
  kafka_configure
  kafka_format "$java_home/bin/java"
  say "starting Kafka $KAFKA_VERSION on $LOCAL_KAFKA_BOOTSTRAP_SERVERS (Java $(java_major "$java_home/bin/java"), heap $KAFKA_HEAP)"
  local log="$STATE/kafka/logs/server.log" out="$STATE/kafka/logs/stdout.log"
  as_service_user truncate -s 0 "$log" 2>/dev/null || true
  # In a session of its own, so that it outlives this script; the shell's pid is the JVM's once it execs.
  local start=(bash -c 'echo $$ >"$1"; shift; exec "$@"' kafka "$(kafka_pidfile)"
    "$java_home/bin/java" "-Xms$KAFKA_HEAP" "-Xmx$KAFKA_HEAP" -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$STATE/kafka/config/log4j2.yaml" -cp "$(kafka_libs)/*"
    kafka.Kafka "$STATE/kafka/config/server.properties")
  if is_root; then
    setsid runuser -u "$SERVICE_USER" -- "${start[@]}" >"$out" 2>&1 </dev/null &
  else
    setsid "${start[@]}" >"$out" 2>&1 </dev/null &
  fi
  local waited=0
  until grep -q "Kafka Server started" "$log" 2>/dev/null && port_taken "$KAFKA_PORT"; do
    waited=$((waited + 1))
    if [ "$waited" -gt 4 ] && [ -z "$(kafka_pid)" ]; then
      tail -n 20 "$log" "$out" >&2 2>/dev/null || true
      die "Kafka exited while starting; see $log"
    fi
    [ "$waited" -le 240 ] || die "Kafka did not start within 60 s; see $log"
    sleep 0.25
  done
  # A broker can log that it started and die a moment later (its heap too small for the partitions it has
  # loaded, say): one that is gone a second later has not started.
  sleep 1
  if [ -z "$(kafka_pid)" ]; then
    tail -n 20 "$log" "$out" >&2 2>/dev/null || true
    die "Kafka exited right after starting; see $log"
  fi
}

kafka_down() {
  local pid
  pid=$(kafka_pid)
  if [ -n "$pid" ]; then
    say "stopping Kafka"
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$(kafka_pidfile)"
}

# ---------------------------------------------------------------- commands

cmd_up() {
  if [ -n "${DATABASE_URL:-}" ] && [ -n "${ELASTICSEARCH_URL:-}" ] && [ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
    say "DATABASE_URL, ELASTICSEARCH_URL and KAFKA_BOOTSTRAP_SERVERS are set: using them, starting nothing"
    return 0
  fi
  ensure_service_user
  prepare_state_dir
  [ -n "${DATABASE_URL:-}" ] && say "DATABASE_URL is set: not starting PostgreSQL" || pg_up
  [ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ] && say "KAFKA_BOOTSTRAP_SERVERS is set: not starting Kafka" || kafka_up
  [ -n "${ELASTICSEARCH_URL:-}" ] && say "ELASTICSEARCH_URL is set: not starting Elasticsearch" || es_up
  say "ready"
}

cmd_down() {
  kafka_down
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
    kafka) kafka_down; kafka_up ;;
    *) die "restart elasticsearch|postgresql|kafka" ;;
  esac
}

cmd_gc() {
  [ "${1:-}" = elasticsearch ] || die "gc elasticsearch"
  local pid java_home
  pid=$(cat "$STATE/es/elasticsearch.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || die "no local Elasticsearch runs (its pid file: $STATE/es/elasticsearch.pid)"
  java_home=$(find_java_home)
  # jcmd attaches as the JVM's own user, with the JDK the node runs on. The class histogram collects in full
  # first and counts what is left at that safepoint; the node's own stats lag up to a second behind.
  as_service_user "$java_home/bin/jcmd" "$pid" GC.class_histogram | awk '$1 == "Total" { print $3 }'
}

cmd_status() {
  if es_answers; then echo "elasticsearch: up at $LOCAL_ELASTICSEARCH_URL"; else echo "elasticsearch: down"; fi
  if kafka_answers; then echo "kafka: up at $LOCAL_KAFKA_BOOTSTRAP_SERVERS"; else echo "kafka: down"; fi
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
  echo "export KAFKA_BOOTSTRAP_SERVERS=${KAFKA_BOOTSTRAP_SERVERS:-$LOCAL_KAFKA_BOOTSTRAP_SERVERS}"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  restart) shift; cmd_restart "$@" ;;
  gc) shift; cmd_gc "$@" ;;
  *) echo "usage: $0 up|down|status|env|restart elasticsearch|postgresql|kafka|gc elasticsearch" >&2; exit 2 ;;
esac
