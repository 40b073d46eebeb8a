#!/bin/sh
# The system tools ohrt needs, installed from Debian/Ubuntu packages when missing:
#   ffmpeg + ffprobe (capture, derivatives, fingerprints), fonts-dejavu-core (the times stamped on contact
#   sheets), openssl (what officers and the tests use to check signatures), chromium (the browser that keeps
#   the page of every capture: screenshot, PDF, text and web archive); and, to read back what ohrt writes
#   for the officer in the case, poppler-utils (pdftotext, pdftoppm) and zbar-tools (zbarimg, QR codes);
#   and, to build Meta's vpdq hasher of the test extras (which the tests hold ohrt's vPDQ hashes against),
#   cmake, pkg-config, g++ and ffmpeg's development headers.
missing=""
{ command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; } || missing="$missing ffmpeg"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
ls /usr/share/fonts/truetype/dejavu/DejaVuSans*.ttf >/dev/null 2>&1 || missing="$missing fonts-dejavu-core"
has_chromium() {
    [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1
}
has_chromium || missing="$missing chromium"
command -v pdftotext >/dev/null 2>&1 || missing="$missing poppler-utils"
command -v zbarimg >/dev/null 2>&1 || missing="$missing zbar-tools"
LIBAV="libavcodec libavformat libavdevice libavutil libswscale libswresample libavfilter"
has_libav_dev() {
    command -v cmake >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1 && command -v pkg-config >/dev/null 2>&1 \
        && pkg-config --exists $LIBAV
}
has_libav_dev || missing="$missing cmake pkg-config g++ libavcodec-dev libavformat-dev libavdevice-dev libavutil-dev libswscale-dev libswresample-dev libavfilter-dev"
[ -z "$missing" ] && exit 0

echo "installing with apt-get:$missing"
if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO="none"; fi
    if [ "$SUDO" != "none" ] && $SUDO apt-get update -qq; then
        # One package at a time: a distribution without one (chromium is a snap on recent Ubuntu) must not
        # keep the others out.
        for package in $missing; do
            DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$package" >/dev/null 2>&1
        done
    fi
fi

still=""
{ command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; } || still="$still ffmpeg"
command -v openssl >/dev/null 2>&1 || still="$still openssl"
ls /usr/share/fonts/truetype/dejavu/DejaVuSans*.ttf >/dev/null 2>&1 || still="$still fonts-dejavu-core"
has_chromium || still="$still chromium"
command -v pdftotext >/dev/null 2>&1 || still="$still poppler-utils"
command -v zbarimg >/dev/null 2>&1 || still="$still zbar-tools"
has_libav_dev || still="$still libavcodec-dev"
[ -z "$still" ] && exit 0

case "$still" in
    *ffmpeg*)
        echo "error: could not install ffmpeg. Install it yourself (Debian/Ubuntu: sudo apt-get install$still;" >&2
        echo "       elsewhere: see https://ffmpeg.org/download.html), then run make again." >&2
        exit 1 ;;
esac
case "$still" in
    *chromium*)
        echo "warning: could not install chromium (install it: sudo apt-get install chromium): media is still captured, pages are not kept" >&2 ;;
esac
case "$still" in
    *libavcodec-dev*)
        echo "warning: could not install cmake, g++ and ffmpeg's development headers: the test extras' vpdq will not" >&2
        echo "         build (sudo apt-get install cmake pkg-config g++ libavcodec-dev libavformat-dev libavdevice-dev" >&2
        echo "         libavutil-dev libswscale-dev libswresample-dev libavfilter-dev)" >&2 ;;
esac
other=$(echo "$still" | sed 's/ chromium//; s/ libavcodec-dev//')
if [ -n "$other" ]; then
    echo "warning: could not install$other; ohrt runs without them (no times on contact sheets, no openssl" >&2
    echo "         checks; the tests cannot read PDFs or QR codes back); install them with: sudo apt-get install$other" >&2
fi
exit 0
