#!/usr/bin/env bash
# Installs the Debian 12 packages the SDK, its tests, tour and benchmarks need, skipping those
# already present. Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache git ca-certificates openssl
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev catch2
  libboost-dev libsqlite3-dev
  libbenchmark-dev clang libclang-rt-dev clang-tidy
  nodejs npm curl procps
  # the official Python SDK's suites (tests/conformance/py_sdk_driver.py); its pydantic v2 is
  # the default python3's, Debian 12 has only v1
  python3 python3-pytest python3-pytest-asyncio python3-httpx python3-aiohttp python3-tqdm
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    # A newer Node.js installed outside apt is as good as Debian's.
    if [[ "$package" == nodejs || "$package" == npm ]] && command -v "${package/nodejs/node}" >/dev/null; then
      continue
    fi
    missing+=("$package")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "==> system packages: all present"
  exit 0
fi

echo "==> installing missing system packages: ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
