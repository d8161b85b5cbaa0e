#!/bin/sh
# Footprint benchmark of the agent: builds cmdb-agent (CGO_ENABLED=0) and
# runs `cmdb-agent inventory` N times (default 20), printing mean and max
# wall time, peak RSS, and the size of a full report and of a heartbeat on
# the wire. Targets: ≤ 0.15 s wall, ≤ 15 MB peak RSS, heartbeat ≤ 2 KB.
#
#   agent/bench.sh [N]
set -eu
cd "$(dirname "$0")/.."
exec go run ./agent/internal/benchrun -n "${1:-20}"
