#!/bin/sh
# vagt developer entry point: installs the Debian packages it needs when missing (as root,
# or through sudo), builds with CMake and runs what you ask for.
#   ./dev.sh demo     the demo robot on a private Xvfb
#   ./dev.sh test     the test suite (ctest)
#   ./dev.sh asan     the test suite under AddressSanitizer + UBSan (without the label
#                     wm-repeat: a window-manager repeat of a path already covered)
#   ./dev.sh bench    the benchmarks
#   ./dev.sh fuzz [SECONDS]  every fuzz target (clang, libFuzzer, ASan + UBSan), 30 s each
#   ./dev.sh build    just build
set -eu
cd "$(dirname "$0")"

# Build and run-time libraries, the demo app's toolkit, and what the tests drive or compare
# with (xterm, x11-apps, xdotool, ImageMagick, window managers, the tesseract command), the
# real toolkits the guard is tried on (Tk, Motif's NEdit, Java Swing, GTK 2's gtk-demo), the
# fonts Xaw applications draw with, and clang with its libFuzzer runtime for the fuzz targets.
PACKAGES="build-essential cmake pkg-config liblua5.4-dev libxdo-dev libx11-dev libxext-dev
libxtst-dev libxres-dev libxdamage-dev libxfixes-dev libtesseract-dev libleptonica-dev
tesseract-ocr tesseract-ocr-eng tesseract-ocr-dan xvfb xauth libcjson-dev libsqlite3-dev libssl-dev
libcurl4-openssl-dev libmicrohttpd-dev libcmocka-dev libxaw7-dev libxmu-dev libxt-dev
xfonts-base fonts-dejavu-core x11-utils xterm x11-apps xdotool imagemagick openbox twm procps
python3 openssl tk nedit default-jdk gtk2.0-examples xfonts-75dpi xfonts-100dpi postgresql libpq-dev
clang libclang-rt-14-dev"

deps() {
  missing=""
  for p in $PACKAGES; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  echo "dev.sh: installing:$missing" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
}

# ctest jobs: most tests wait on Xvfb, an application, a step's settle or a database more
# than they compute (at -j3 on 2 cores the load average stays near 2), so two jobs more than
# the cores; under the sanitizers the tests compute (ASan's CPU time), so one more
# (CTEST_PARALLEL_LEVEL overrides both). The longest tests start first (their COST).
tjobs=${CTEST_PARALLEL_LEVEL:-$(( $(nproc) + 2 ))}
ajobs=${CTEST_PARALLEL_LEVEL:-$(( $(nproc) + 1 ))}

# The tests start python3 hundreds of times (sqlite checks, some polled every 0.1 s). Through
# a version manager's shim (pyenv's, first in root's PATH on some machines) each start
# costs ~0.6 CPU-s instead of ~0.05: ctest gets the interpreter itself first in PATH.
direct_python() {
  py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || return 0
  [ -x "$py" ] || return 0
  mkdir -p "$1/python-bin" && ln -sf "$py" "$1/python-bin/python3" || return 0
  PATH="$(cd "$1/python-bin" && pwd):$PATH"
  export PATH
}

build() {
  dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j"$(nproc)"
}

case "${1:-}" in
  build) deps; build build ;;
  demo) deps; build build; exec scripts/demo.sh build ;;
  test) deps; build build; direct_python build; cd build && exec ctest --output-on-failure -j"$tjobs" ;;
  asan)
    deps; build build-asan -DVAGT_SANITIZE=ON
    direct_python build-asan
    cd build-asan
    ASAN_OPTIONS=abort_on_error=1 \
    LSAN_OPTIONS=suppressions=$(pwd)/../tests/lsan.supp:print_suppressions=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      exec ctest --output-on-failure -j"$ajobs" -LE wm-repeat ;;
  bench) deps; build build; exec tests/bench/run build ;;
  fuzz)
    # gcc has no libFuzzer: a build folder of its own, compiled by clang
    deps
    CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVAGT_FUZZ=ON >/dev/null
    cmake --build build-fuzz -j"$(nproc)" --target fuzz_targets
    exec tests/fuzz/run.sh build-fuzz "${2:-30}" ;;
  *) echo "usage: ./dev.sh demo|test|asan|bench|fuzz|build" >&2; exit 2 ;;
esac
