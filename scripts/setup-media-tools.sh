#!/usr/bin/env bash
# Installs the media tools that the RTP-ingest tests, the demo's --ffmpeg option and
# scripts/make-samples.sh use, from Debian, only when they are missing:
#   ffmpeg                      (ffmpeg)
#   gst-launch-1.0 + plugins    (gstreamer1.0-tools, -plugins-base, -plugins-good)
# Usage: setup-media-tools.sh [ffmpeg] [gstreamer]   (both when no argument is given)
# Without root or apt-get it says what is missing and exits 0: the tests that need a tool
# then say they are skipped and why.
set -euo pipefail
want=("$@")
[ ${#want[@]} -eq 0 ] && want=(ffmpeg gstreamer)

packages=()
for tool in "${want[@]}"; do
	case "$tool" in
	ffmpeg) command -v ffmpeg >/dev/null 2>&1 || packages+=(ffmpeg) ;;
	gstreamer)
		if ! command -v gst-launch-1.0 >/dev/null 2>&1 || ! gst-inspect-1.0 rtpvp8pay >/dev/null 2>&1 \
			|| ! gst-inspect-1.0 vp8enc >/dev/null 2>&1; then
			packages+=(gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good)
		fi
		;;
	*) echo "setup-media-tools: unknown tool $tool" >&2; exit 2 ;;
	esac
done
[ ${#packages[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "setup-media-tools: missing ${packages[*]} (install them with apt-get as root); the tests that need them are skipped" >&2
	exit 0
fi
echo "setup-media-tools: installing ${packages[*]} from Debian"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || true
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
