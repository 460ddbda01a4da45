#!/usr/bin/env bash
# Installs the Debian tools the test suite needs (the Spin model checker) when they are missing.
set -euo pipefail
if ! command -v spin >/dev/null 2>&1; then
  echo "[udf] installing spin (Debian package) for the Promela model check"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq spin >/dev/null
fi
command -v gcc >/dev/null 2>&1 || { echo "[udf] gcc is needed to compile Spin verifiers" >&2; exit 1; }
