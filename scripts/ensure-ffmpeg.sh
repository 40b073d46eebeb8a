#!/bin/sh
# ffmpeg and ffprobe are needed for capture; install them from Debian/Ubuntu packages when missing (with
# fonts-dejavu-core, the font that stamps times on contact sheets).
if command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; then
    exit 0
fi
echo "ffmpeg is missing: installing it with apt-get…"
if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO="none"; fi
    if [ "$SUDO" != "none" ]; then
        $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq ffmpeg fonts-dejavu-core >/dev/null \
            && command -v ffmpeg >/dev/null 2>&1 && exit 0
    fi
fi
echo "error: could not install ffmpeg. Install it yourself (Debian/Ubuntu: sudo apt-get install ffmpeg;" >&2
echo "       elsewhere: see https://ffmpeg.org/download.html), then run make again." >&2
exit 1
