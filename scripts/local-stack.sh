#!/usr/bin/env bash
# The local LLM-cost stack without Docker: our collector + Prometheus (with prometheus/rules) + Alertmanager,
# all on 127.0.0.1, from the same binaries the end-to-end tests use. Grafana is not started (it is not
# packaged for this machine): import grafana-dashboards/*.json into any Grafana pointed at this Prometheus.
#
#   scripts/local-stack.sh start | stop | status | env
#
# Binaries: the collector from scripts/build-collector.sh (built once into a cache, several minutes cold),
# `prometheus` and `prometheus-alertmanager` (Debian; or `alertmanager`) on PATH. The same overrides as the
# tests: OTEL_LLM_COST_OTELCOL, OTEL_LLM_COST_PROMETHEUS, OTEL_LLM_COST_ALERTMANAGER.
# Settings (environment):
#   LOCAL_STACK_DIR        run directory: pid files, logs, configs, data
#                          (default ${XDG_STATE_HOME:-$HOME/.local/state}/otel-llm-cost/local-stack)
#   LOCAL_STACK_OTLP_GRPC_PORT 4317, LOCAL_STACK_OTLP_HTTP_PORT 4318, LOCAL_STACK_HEALTH_PORT 13133,
#   LOCAL_STACK_COLLECTOR_METRICS_PORT 8888, LOCAL_STACK_PROMETHEUS_PORT 9090, LOCAL_STACK_ALERTMANAGER_PORT 9093
#   LOCAL_STACK_ALERTMANAGER_CONFIG  default deploy/alertmanager.yml (a local log-only config when absent)
#   LOCAL_STACK_LIFETIME   seconds after which every process stops by itself (default: none; the tests set it)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
run="${LOCAL_STACK_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/otel-llm-cost/local-stack}"
host=127.0.0.1
grpc_port="${LOCAL_STACK_OTLP_GRPC_PORT:-4317}"
http_port="${LOCAL_STACK_OTLP_HTTP_PORT:-4318}"
health_port="${LOCAL_STACK_HEALTH_PORT:-13133}"
telemetry_port="${LOCAL_STACK_COLLECTOR_METRICS_PORT:-8888}"
prom_port="${LOCAL_STACK_PROMETHEUS_PORT:-9090}"
am_port="${LOCAL_STACK_ALERTMANAGER_PORT:-9093}"
lifetime="${LOCAL_STACK_LIFETIME:-}"
components=(alertmanager prometheus otelcol)

log() { echo "local-stack: $*" >&2; }
die() { log "$*"; exit 1; }

ready_url() {
  case "$1" in
    otelcol) echo "http://$host:$health_port/" ;;
    prometheus) echo "http://$host:$prom_port/-/ready" ;;
    alertmanager) echo "http://$host:$am_port/-/ready" ;;
  esac
}

pid_of() { [ -f "$run/$1.pid" ] && cat "$run/$1.pid"; }
alive() { local pid; pid="$(pid_of "$1")" && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }
healthy() { curl -fs -o /dev/null --max-time 2 "$(ready_url "$1")"; }
port_free() { ! (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null; }

find_bin() {  # find_bin <env override var> <names...>
  local override="${!1:-}" name
  shift
  if [ -n "$override" ]; then
    [ -x "$override" ] || die "$override is not executable"
    echo "$override"; return
  fi
  for name in "$@"; do
    if command -v "$name" >/dev/null; then command -v "$name"; return; fi
  done
  die "none of $* on PATH: run scripts/setup.d/10-observability.sh (or set the override)"
}

write_configs() {
  mkdir -p "$run/prometheus-data" "$run/alertmanager-data"
  cat >"$run/prometheus.yml" <<EOF
# Written by scripts/local-stack.sh; the collector remote-writes into this Prometheus.
global: {scrape_interval: 15s, evaluation_interval: 15s}
rule_files: ["$repo/prometheus/rules/*.yaml"]
alerting:
  alertmanagers: [{static_configs: [{targets: ["$host:$am_port"]}]}]
scrape_configs:
  - job_name: otelcol   # the collector's own metrics: queue size, failed sends
    static_configs: [{targets: ["$host:$telemetry_port"]}]
EOF
  am_config="${LOCAL_STACK_ALERTMANAGER_CONFIG:-$repo/deploy/alertmanager.yml}"
  if [ ! -f "$am_config" ]; then
    am_config="$run/alertmanager.yml"
    printf '%s\n' "# local-stack fallback: alerts are only shown in the Alertmanager UI" \
      "route: {receiver: ui-only, group_by: [alertname]}" "receivers: [{name: ui-only}]" >"$am_config"
  fi
}

launch() {  # launch <name> <argv...>: background, own log, pid file; bounded by LOCAL_STACK_LIFETIME if set
  local name="$1"; shift
  local wrap=()
  [ -n "$lifetime" ] && wrap=(timeout "$lifetime")
  nohup "${wrap[@]}" "$@" >"$run/$name.log" 2>&1 </dev/null &
  echo $! >"$run/$name.pid"
}

wait_ready() {
  local name="$1" deadline=$((SECONDS + 60))
  until healthy "$name"; do
    alive "$name" || { tail -n 30 "$run/$name.log" >&2; die "$name exited (log: $run/$name.log)"; }
    [ $SECONDS -lt $deadline ] || die "$name not ready after 60 s (log: $run/$name.log)"
    sleep 0.2
  done
  log "$name ready (pid $(pid_of "$name"))"
}

start() {
  mkdir -p "$run"
  for c in "${components[@]}"; do
    alive "$c" && die "$c already running (pid $(pid_of "$c")); run '$0 stop' first"
  done
  for p in "$grpc_port" "$http_port" "$health_port" "$telemetry_port" "$prom_port" "$am_port"; do
    port_free "$p" || die "port $host:$p is in use (set the LOCAL_STACK_*_PORT variables)"
  done
  local otelcol prometheus alertmanager
  if [ -n "${OTEL_LLM_COST_OTELCOL:-}" ]; then otelcol="$(find_bin OTEL_LLM_COST_OTELCOL)"
  else otelcol="$(bash "$repo/scripts/build-collector.sh")"; fi
  prometheus="$(find_bin OTEL_LLM_COST_PROMETHEUS prometheus)"
  alertmanager="$(find_bin OTEL_LLM_COST_ALERTMANAGER prometheus-alertmanager alertmanager)"
  write_configs
  # An empty --cluster.listen-address turns gossip off (otherwise it binds 0.0.0.0:9094).
  launch alertmanager "$alertmanager" --config.file="$am_config" --storage.path="$run/alertmanager-data" \
    --web.listen-address="$host:$am_port" --cluster.listen-address=
  wait_ready alertmanager
  launch prometheus "$prometheus" --config.file="$run/prometheus.yml" --storage.tsdb.path="$run/prometheus-data" \
    --web.listen-address="$host:$prom_port" --web.enable-remote-write-receiver --web.enable-lifecycle
  wait_ready prometheus
  OTELCOL_LISTEN_HOST="$host" OTELCOL_OTLP_GRPC_PORT="$grpc_port" OTELCOL_OTLP_HTTP_PORT="$http_port" \
    OTELCOL_HEALTH_PORT="$health_port" OTELCOL_TELEMETRY_PORT="$telemetry_port" \
    OTELCOL_PROMETHEUS_RW_ENDPOINT="http://$host:$prom_port/api/v1/write" \
    launch otelcol "$otelcol" --config="$repo/collector-config/otelcol.yaml"
  wait_ready otelcol
  cat <<EOF
LLM-cost stack is up (run dir $run).
  OTLP/HTTP  http://$host:$http_port   OTLP/gRPC  http://$host:$grpc_port
  Prometheus http://$host:$prom_port   Alertmanager http://$host:$am_port
Point an app at it:  eval "\$($0 env)" && opentelemetry-instrument python your_app.py
Dashboards: import grafana-dashboards/*.json into Grafana with a Prometheus data source at http://$host:$prom_port
Stop: $0 stop
EOF
}

stop() {
  local c pid i
  for c in otelcol prometheus alertmanager; do  # collector first: it flushes into Prometheus
    pid="$(pid_of "$c" || true)"
    [ -n "$pid" ] || continue
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for i in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && { log "$c (pid $pid) ignored SIGTERM for 15 s, killing"; kill -KILL "$pid"; }
      log "$c stopped (pid $pid)"
    fi
    rm -f "$run/$c.pid"
  done
}

status() {
  local c rc=0
  for c in "${components[@]}"; do
    if alive "$c" && healthy "$c"; then echo "$c: up (pid $(pid_of "$c"), $(ready_url "$c"))"
    elif alive "$c"; then echo "$c: running but not ready (pid $(pid_of "$c"))"; rc=3
    else echo "$c: down"; rc=3; fi
  done
  return $rc
}

app_env() {
  cat <<EOF
export OTEL_EXPORTER_OTLP_ENDPOINT=http://$host:$http_port
export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
export OTEL_METRICS_EXPORTER=otlp OTEL_TRACES_EXPORTER=otlp OTEL_LOGS_EXPORTER=none
export OTEL_SERVICE_NAME=\${OTEL_SERVICE_NAME:-my-llm-app}
export OTEL_RESOURCE_ATTRIBUTES=\${OTEL_RESOURCE_ATTRIBUTES:-deployment.environment=dev}
EOF
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) app_env ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
