#!/usr/bin/env bash
# Fetches a runnable Apache Kafka (broker, tools, Java client; for 4.x also Kafka Streams) from
# Maven Central into .cache/kafka/<version>/lib. Skips the download when that folder is already
# complete; two concurrent runs for the same version wait for each other.
# Prints the lib folder on stdout. Usage: scripts/kafka/fetch.sh [version]
set -euo pipefail

version="${1:-${KAFKA_VERSION:-3.9.1}}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
lib="$repo/.cache/kafka/$version/lib"
marker="$lib/.complete"

case "$version" in
  3.*) profile=kafka3; jars=("kafka_2.13-$version.jar" "kafka-tools-$version.jar" "kafka-clients-$version.jar" "slf4j-reload4j-1.7.36.jar") ;;
  4.*) profile=kafka4; jars=("kafka_2.13-$version.jar" "kafka-tools-$version.jar" "kafka-clients-$version.jar" "kafka-streams-$version.jar") ;;
  *) echo "fetch.sh: unsupported Kafka version $version (3.x or 4.x)" >&2; exit 2 ;;
esac

if [[ ! -f "$marker" ]]; then
  mkdir -p "$repo/.cache/kafka"
  if command -v flock >/dev/null; then
    exec 9>"$repo/.cache/kafka/.fetch-$version.lock"
    flock 9
  fi
fi

if [[ ! -f "$marker" ]]; then
  command -v mvn >/dev/null || { echo "fetch.sh: mvn is required (apt-get install maven)" >&2; exit 1; }
  command -v java >/dev/null || { echo "fetch.sh: java 17+ is required" >&2; exit 1; }
  rm -rf "$lib"
  mkdir -p "$lib"
  mvn -q -B -Dstyle.color=never -f "$here/pom.xml" -P "$profile" -Dkafka.version="$version" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$lib" >&2
  # The marker is written last so an interrupted download is redone next time.
  for jar in "${jars[@]}"; do
    [[ -f "$lib/$jar" ]] || { echo "fetch.sh: $jar missing after download" >&2; exit 1; }
  done
  touch "$marker"
fi

echo "$lib"
