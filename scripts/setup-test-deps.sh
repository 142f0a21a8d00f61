#!/usr/bin/env bash
# The one step of the test set-up that needs root: Debian packages, installed only when missing;
# safe to run again. Everything else (Apache Kafka's jars, the Python virtualenv, Node 24, our Go
# clients) `npm test` fetches by itself into .cache/ (scripts/test-deps/fetch.sh).
#  - kcat and python3-kafka: real clients for the interoperability tests;
#  - Java and Maven: Kafka's Java client and tools, and the download of its jars;
#  - Go, when there is none: our franz-go based clients (scripts/clients/);
#  - python3-venv, when the python3 on PATH cannot make a virtualenv;
#  - etcd-server (the `etcd` binary): the cluster metadata store the etcd tests and the simulation start;
#  - chromium: the headless browser the web console test drives (puppeteer-core, no browser download).
set -euo pipefail

missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
/usr/bin/python3 -c 'import kafka' >/dev/null 2>&1 || missing+=(python3-kafka)
command -v java >/dev/null 2>&1 || missing+=(default-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v go >/dev/null 2>&1 || [[ -x /usr/local/go/bin/go ]] || missing+=(golang-go)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)

if ((${#missing[@]} > 0)); then
  as_root=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup-test-deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    as_root=(sudo)
  fi
  echo "setup-test-deps: installing ${missing[*]}" >&2
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "setup-test-deps: kcat, python3-kafka, java, mvn, go, python3 venv, etcd and chromium present; npm test fetches the rest" >&2
