#!/usr/bin/env bash
# Fetches a runnable Apache Kafka (broker, tools, Java client) from Maven Central into
# .cache/kafka/<version>/lib. Skips the download when that folder is already complete.
# Prints the lib folder on stdout. Usage: scripts/kafka/fetch.sh [version]
set -euo pipefail

version="${1:-${KAFKA_VERSION:-3.9.1}}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
lib="$repo/.cache/kafka/$version/lib"
marker="$lib/.complete"

if [[ ! -f "$marker" ]]; then
  command -v mvn >/dev/null || { echo "fetch.sh: mvn is required (apt-get install maven)" >&2; exit 1; }
  command -v java >/dev/null || { echo "fetch.sh: java 17+ is required" >&2; exit 1; }
  rm -rf "$lib"
  mkdir -p "$lib"
  mvn -q -B -Dstyle.color=never -f "$here/pom.xml" -Dkafka.version="$version" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$lib" >&2
  # The marker is written last so an interrupted download is redone next time.
  for jar in "kafka_2.13-$version.jar" "kafka-tools-$version.jar" "kafka-clients-$version.jar"; do
    [[ -f "$lib/$jar" ]] || { echo "fetch.sh: $jar missing after download" >&2; exit 1; }
  done
  touch "$marker"
fi

echo "$lib"
