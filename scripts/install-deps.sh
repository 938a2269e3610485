#!/usr/bin/env bash
# Installs the Debian packages the app and its tests need. Idempotent; run as root (or with sudo).
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
PKGS=(pkg-config build-essential file libssl-dev
  libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev libxdo-dev
  libudev-dev libusb-1.0-0-dev
  webkit2gtk-driver xvfb xauth dbus-x11 imagemagick sqlite3 chromium chromium-driver socat
  fonts-noto-cjk fonts-dejavu-core curl ca-certificates postgresql python3-venv python3-aiosmtpd openssl)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "debian packages: ok (${#missing[@]} installed now)"
