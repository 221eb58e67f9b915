#!/usr/bin/env bash
# Serve the dashboard from N Streamlit processes behind nginx, with sticky sessions.
#   scripts/serve.sh --replicas 2                     nginx on 127.0.0.1:8501, replicas on 8502, 8503
#   scripts/serve.sh --replicas 4 --port 8080 --address 0.0.0.0     a school server's whole network
#   scripts/serve.sh --replicas 2 --no-warm          skip the warm-up (below)
# Every session is a thread of one Python process, so one Streamlit server uses one core; N replicas
# use N. Replicas share nothing (the app writes nothing to disk; runs are deterministic), so each
# trains what its own sessions need. nginx (Debian's package, installed here when missing) runs in
# the foreground with a config generated from deploy/nginx.conf.template in a temp dir, never as the
# system service. Before nginx lets anyone in, each replica is warmed up by one simulated session on
# the default view (benchmarks/ws_load.py): its imports done and the default lesson's runs trained,
# so the first class to arrive does not wait for them. A browser is kept on one replica by a route
# cookie (see the template). The replicas' logs and nginx's are in that temp dir (printed at start). Ctrl-C or SIGTERM stops
# everything this script started; a replica that dies is not restarted (nginx sends its browsers to
# a live one). Under systemd, deploy/normalization-seen.service runs this script.
set -euo pipefail
cd "$(dirname "$0")/.."

REPLICAS=2
PORT=8501
ADDRESS=127.0.0.1
WARM=1
usage() { sed -n '2,4p' "$0" | sed 's/^# //' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --replicas) REPLICAS=${2:-}; shift 2 ;;
    --port) PORT=${2:-}; shift 2 ;;
    --address) ADDRESS=${2:-}; shift 2 ;;
    --no-warm) WARM=0; shift ;;
    -h|--help) usage ;;
    *) echo "serve.sh: unknown option $1" >&2; usage ;;
  esac
done
[[ "$REPLICAS" =~ ^[1-9][0-9]?$ ]] || { echo "serve.sh: --replicas must be 1..99" >&2; exit 2; }
[[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ $((PORT + REPLICAS)) -le 65535 ] \
  || { echo "serve.sh: --port must leave room for $REPLICAS ports after it" >&2; exit 2; }
[[ "$ADDRESS" =~ ^[0-9a-fA-F.:]+$ ]] || { echo "serve.sh: --address must be an IP address" >&2; exit 2; }

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x .venv/bin/streamlit ] || bash scripts/setup.sh

DIR=$(mktemp -d -t serve.XXXXXX)
chmod 755 "$DIR"  # nginx's workers (nobody, when started as root) read and write below it
PIDS=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

UPSTREAMS=""
for i in $(seq 1 "$REPLICAS"); do
  port=$((PORT + i))
  .venv/bin/streamlit run dashboard/app.py --server.port "$port" --server.address 127.0.0.1 \
    --server.headless true --server.fileWatcherType none --browser.gatherUsageStats false \
    >"$DIR/replica-$i.log" 2>&1 &
  PIDS+=("$!")
  echo "replica $i: http://127.0.0.1:$port (pid $!, log $DIR/replica-$i.log)"
  UPSTREAMS+="        server 127.0.0.1:$port max_fails=1 fail_timeout=10s;"$'\n'
done

# every replica answers its health check before nginx sends it anyone
.venv/bin/python - "$PORT" "$REPLICAS" <<'PY'
import sys, time, urllib.request
port, n = int(sys.argv[1]), int(sys.argv[2])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
deadline = time.monotonic() + 60 + 15 * n
for p in range(port + 1, port + n + 1):
    while True:
        try:
            with opener.open(f"http://127.0.0.1:{p}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"serve.sh: replica on port {p} not healthy in time")
        time.sleep(0.3)
PY

if [ "$WARM" = 1 ]; then
  WARMING=()
  for i in $(seq 1 "$REPLICAS"); do
    .venv/bin/python benchmarks/ws_load.py --base-url "http://127.0.0.1:$((PORT + i))" --sessions 1 \
      --url /training --timeout 180 >"$DIR/warm-$i.log" 2>&1 &
    WARMING+=("$!")
    PIDS+=("$!")
  done
  for pid in "${WARMING[@]}"; do
    wait "$pid" || echo "serve.sh: a replica's warm-up failed (see $DIR/warm-*.log)" >&2
  done
  echo "replicas warmed up: imports done, the default lesson's runs trained"
fi

USER_LINE=""
[ "$(id -u)" = 0 ] && USER_LINE="user nobody nogroup;"
mkdir -p "$DIR"/{client_body,proxy,fastcgi,uwsgi,scgi}
UPSTREAMS=${UPSTREAMS%$'\n'}
.venv/bin/python -c '
import sys
template, *values = sys.argv[1:]
text = open(template).read()
for key, value in zip(("@PREFIX@", "@LISTEN@", "@USER@", "@UPSTREAMS@"), values):
    text = text.replace(key, value)
sys.stdout.write(text)
' deploy/nginx.conf.template "$DIR" "$ADDRESS:$PORT" "$USER_LINE" "$UPSTREAMS" >"$DIR/nginx.conf"
"$NGINX" -q -t -e "$DIR/error.log" -p "$DIR" -c "$DIR/nginx.conf"
"$NGINX" -e "$DIR/error.log" -p "$DIR" -c "$DIR/nginx.conf" &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
echo "nginx: http://$ADDRESS:$PORT (pid $NGINX_PID, config $DIR/nginx.conf)"
wait "$NGINX_PID"
