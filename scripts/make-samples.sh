#!/usr/bin/env bash
# Makes the media samples in samples/ (committed; this script is how they were made): short
# test patterns and a tone, encoded with ffmpeg from Debian. Run it again to regenerate them.
#
#   samples/vp8.ivf, vp9.ivf, av1.ivf  2 s, 320x240, 30 fps, a keyframe every second
#   samples/h264.h264                  the same as H.264 Annex B (constrained baseline, no B-frames)
#   samples/opus.ogg                   2 s of a 440 Hz tone, 20 ms Opus packets
#
# Encoders run single-threaded so that a run gives the same bytes on the same ffmpeg.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup-media-tools.sh ffmpeg

out=samples
mkdir -p "$out"
seconds=2
video=(-f lavfi -i "testsrc2=size=320x240:rate=30" -t "$seconds" -an -threads 1 -g 30 -keyint_min 30 -pix_fmt yuv420p)
ff=(ffmpeg -hide_banner -loglevel error -y -bitexact)

"${ff[@]}" "${video[@]}" -c:v libvpx -b:v 250k -deadline realtime -cpu-used 8 -auto-alt-ref 0 -f ivf "$out/vp8.ivf"
"${ff[@]}" "${video[@]}" -c:v libvpx-vp9 -b:v 200k -deadline realtime -cpu-used 8 -lag-in-frames 0 -auto-alt-ref 0 -row-mt 0 -f ivf "$out/vp9.ivf"
"${ff[@]}" "${video[@]}" -c:v libaom-av1 -b:v 200k -usage realtime -cpu-used 8 -lag-in-frames 0 -row-mt 0 -f ivf "$out/av1.ivf"
"${ff[@]}" "${video[@]}" -c:v libx264 -profile:v baseline -level 3.1 -preset veryfast -tune zerolatency -bf 0 -b:v 250k \
	-x264-params "keyint=30:min-keyint=30:scenecut=0" -f h264 "$out/h264.h264"
"${ff[@]}" -f lavfi -i "sine=frequency=440:sample_rate=48000" -t "$seconds" -c:a libopus -b:a 32k -frame_duration 20 \
	-application audio -fflags +bitexact -flags:a +bitexact -f ogg "$out/opus.ogg"

ls -l "$out"
