#!/bin/sh
# The system tools ohrt needs, installed from Debian/Ubuntu packages when missing:
#   ffmpeg + ffprobe (capture, derivatives, fingerprints), fonts-dejavu-core (the times stamped on contact
#   sheets), openssl (what officers and the tests use to check signatures).
missing=""
{ command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; } || missing="$missing ffmpeg"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
ls /usr/share/fonts/truetype/dejavu/DejaVuSans*.ttf >/dev/null 2>&1 || missing="$missing fonts-dejavu-core"
[ -z "$missing" ] && exit 0

echo "installing with apt-get:$missing"
if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO="none"; fi
    if [ "$SUDO" != "none" ] && $SUDO apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null; then
        command -v ffmpeg >/dev/null 2>&1 && exit 0
    fi
fi
case "$missing" in
    *ffmpeg*)
        echo "error: could not install ffmpeg. Install it yourself (Debian/Ubuntu: sudo apt-get install$missing;" >&2
        echo "       elsewhere: see https://ffmpeg.org/download.html), then run make again." >&2
        exit 1 ;;
    *)
        echo "warning: could not install$missing; ohrt runs without them (no times on contact sheets, no openssl" >&2
        echo "         checks); install them with: sudo apt-get install$missing" >&2
        exit 0 ;;
esac
