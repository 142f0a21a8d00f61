#!/usr/bin/env bash
# Installs what the test suite needs beyond npm, on a Debian machine; safe to run again.
#  - Debian packages: kcat and python3-kafka (real clients for the interoperability tests),
#    plus Java and Maven when missing.
#  - Apache Kafka's jars from Maven Central (broker, tools, Java client) into .cache/kafka/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
/usr/bin/python3 -c 'import kafka' >/dev/null 2>&1 || missing+=(python3-kafka)
command -v java >/dev/null 2>&1 || missing+=(default-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)

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

lib="$("$here/kafka/fetch.sh")"
echo "setup-test-deps: kcat, python3-kafka, java, mvn present; Apache Kafka jars in ${lib#"$(cd "$here/.." && pwd)/"}" >&2
