#!/usr/bin/env bash
# Fetches everything the test suite needs that takes no root, into the git-ignored .cache/:
#   kafka-3.9.1, kafka-4.4.0  Apache Kafka's jars from Maven Central   .cache/kafka/<version>/lib
#   venv                      confluent-kafka 2.16.x, kafka-python 3.x  .cache/venv
#                             (with its snappy, lz4, zstd modules)
#   node24                    Node 24 from the npm registry             .cache/node/24
#   go                        our Go clients, scripts/clients/<name>/  .cache/go/bin/<name>
# Each step is skipped at once when a marker, written last, says it is complete. A step that fails
# (offline, a tool missing) prints why and the rest go on: the tests that need it then skip, or fail
# under CI=true. Always exits 0 unless its own arguments are wrong.
# What needs root (Debian packages: java, maven, kcat, python3-kafka, ...) is scripts/setup-test-deps.sh.
#
# Usage: scripts/test-deps/fetch.sh [step...]      (no step: all of them)
# TSKAFKA_NO_FETCH=1 skips everything (offline work; tests then skip what is missing).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="$repo/.cache"
logs="$cache/test-deps"

KAFKA_VERSIONS=(3.9.1 4.4.0)
# kafka-python's compression codecs are modules of their own (snappy through cramjam).
VENV_REQUIREMENTS=("confluent-kafka==2.16.*" "kafka-python>=3,<4" "python-snappy>=0.7" "lz4>=4" "zstandard>=0.22")
NODE_MAJOR=24

say() { echo "test-deps: $*"; }

if [[ "${TSKAFKA_NO_FETCH:-}" == 1 ]]; then
  say "TSKAFKA_NO_FETCH=1, nothing fetched"
  exit 0
fi

all=("${KAFKA_VERSIONS[@]/#/kafka-}" venv "node$NODE_MAJOR" go)
steps=("$@")
((${#steps[@]} > 0)) || steps=("${all[@]}")
for s in "${steps[@]}"; do
  [[ " ${all[*]} " == *" $s "* ]] || { echo "usage: $0 [${all[*]}]" >&2; exit 2; }
done

mkdir -p "$logs"
# One fetch at a time per clone: two test runs started together wait here rather than race.
if command -v flock >/dev/null; then
  exec 8>"$logs/.lock"
  flock -w 900 8 || say "another fetch has held .cache/test-deps/.lock for 15 minutes; going on without it"
fi

# A log without colour codes and blank lines, each line cut to 200 characters.
plain() { sed -e 's/\x1b\[[0-9;]*m//g' -e '/^[[:space:]]*$/d' "$1" | cut -c1-200; }

# Runs one step's work with its output in a log and prints one line: done, or why it failed.
# usage: attempt <step> <command...>
attempt() {
  local step="$1" log="$logs/$1.log" started=$SECONDS
  shift
  if "$@" >"$log" 2>&1; then
    local last
    last="$(plain "$log" | tail -n 1)"
    last="${last#"$repo/"}"
    say "$step: ready, fetched in $((SECONDS - started)) s${last:+ ($last)}"
    return 0
  fi
  local why
  # pip's and npm's error line, or fetch.sh's, else the last line.
  why="$(plain "$log" | grep -m 1 -E '^(ERROR:|npm error code|fetch\.sh:)' || plain "$log" | tail -n 1)"
  say "$step: FAILED (${why:-no output}); full log in .cache/test-deps/$step.log; tests that need it will skip"
  return 1
}

# --- Apache Kafka jars ---

kafka_step() {
  local version="$1" lib="$cache/kafka/$1/lib"
  if [[ -f "$lib/.complete" ]]; then
    say "kafka-$version: present"
    return
  fi
  attempt "kafka-$version" bash "$repo/scripts/kafka/fetch.sh" "$version"
}

# --- the Python virtualenv ---

venv_install() {
  local venv="$1"
  command -v python3 >/dev/null || { echo "no python3 on PATH"; return 1; }
  # A venv whose interpreter no longer runs (python3 upgraded or moved) is made anew.
  if ! "$venv/bin/python" -c '' 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv" || { echo "python3 -m venv failed (Debian: apt-get install python3-venv)"; return 1; }
  fi
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --retries 2 "${VENV_REQUIREMENTS[@]}" || return 1
  "$venv/bin/python" -c 'import confluent_kafka, kafka, snappy, lz4, zstandard; print("confluent-kafka", confluent_kafka.__version__, "librdkafka", confluent_kafka.libversion()[0], "kafka-python", kafka.__version__)'
}

venv_step() {
  local venv="$cache/venv" marker="$cache/venv/.complete" want="${VENV_REQUIREMENTS[*]}"
  if [[ -f "$marker" && "$(cat "$marker")" == "$want" ]] && "$venv/bin/python" -c '' 2>/dev/null; then
    say "venv: present"
    return
  fi
  rm -f "$marker"
  attempt venv venv_install "$venv" && echo "$want" >"$marker"
}

# --- Node 24 from the npm registry ---

node_install() {
  local prefix="$1"
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error \
    --fetch-retries=1 --fetch-retry-maxtimeout=10000 "node@$NODE_MAJOR" || return 1
  local v
  v="$("$prefix/node_modules/node/bin/node" -v)" || { echo "the installed node does not run"; return 1; }
  [[ "$v" == "v$NODE_MAJOR."* ]] || { echo "installed node is $v, not $NODE_MAJOR.x"; return 1; }
  echo "$v"
}

node_step() {
  local prefix="$cache/node/$NODE_MAJOR" marker="$cache/node/$NODE_MAJOR/.complete"
  if [[ -f "$marker" ]] && "$prefix/node_modules/node/bin/node" -e '' 2>/dev/null; then
    say "node$NODE_MAJOR: present"
    return
  fi
  rm -f "$marker"
  attempt "node$NODE_MAJOR" node_install "$prefix" && tail -n 1 "$logs/node$NODE_MAJOR.log" >"$marker"
}

# --- our Go clients ---

go_step() {
  local dirs=() d
  for d in "$repo"/scripts/clients/*/; do
    [[ -f "$d/go.mod" ]] && dirs+=("${d%/}")
  done
  if ((${#dirs[@]} == 0)); then
    say "go: no Go clients under scripts/clients/, nothing to build"
    return
  fi
  local gocmd
  gocmd="$(command -v go || true)"
  [[ -n "$gocmd" || ! -x /usr/local/go/bin/go ]] || gocmd=/usr/local/go/bin/go
  mkdir -p "$cache/go/bin"
  for d in "${dirs[@]}"; do
    local name out stamp
    name="$(basename "$d")"
    out="$cache/go/bin/$name"
    stamp="$cache/go/bin/.$name.complete"
    # Up to date: built, and no file of its folder changed since.
    if [[ -x "$out" && -f "$stamp" && -z "$(find "$d" -newer "$stamp" -print -quit)" ]]; then
      say "go-$name: present"
      continue
    fi
    if [[ -z "$gocmd" ]]; then
      say "go-$name: FAILED (no go on PATH; scripts/setup-test-deps.sh installs golang-go); tests that need it will skip"
      continue
    fi
    rm -f "$stamp"
    attempt "go-$name" bash -c 'cd "$1" && "$2" build -o "$3" .' _ "$d" "$gocmd" "$out" && touch "$stamp"
  done
}

for s in "${steps[@]}"; do
  case "$s" in
    kafka-*) kafka_step "${s#kafka-}" ;;
    venv) venv_step ;;
    "node$NODE_MAJOR") node_step ;;
    go) go_step ;;
  esac
done
exit 0
