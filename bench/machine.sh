#!/usr/bin/env bash
# Prints what a benchmark ran on, for machine.txt beside its results: date, commit, CPU, cores, memory,
# kernel and the JDK at $1 (a java executable; default: the one ./jdk21 picks).
set -euo pipefail
cd "$(dirname "$0")/.."
java="${1:-$(./jdk21)/bin/java}"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet -- src pom.xml || echo ' (with uncommitted changes)')"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "cores: $(nproc)"
echo "memory: $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "kernel: $(uname -r)"
echo "jdk: $("$java" -version 2>&1 | head -1)"
