#!/bin/sh
# Benchmark of runtime/xio on a private 1920x1080x24 Xvfb (not a test).
# usage: tests/xio/bench_xio.sh [BUILD_DIR]    (default: build)
# Prints full-screen capture time (MIT-SHM vs XGetImage vs ImageMagick import) and typing
# throughput + exactness into xterm (vagt vs xdotool type), all from the same run.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
bench=$(find "$build" -name bench_xio -type f -perm -u+x | head -n1)
[ -n "$bench" ] || { echo "bench_xio not built in $build (cmake --build $build --target bench_xio)" >&2; exit 2; }
for c in Xvfb xterm xdotool import; do
  command -v $c >/dev/null || { echo "missing $c (apt-get install xvfb xterm xdotool imagemagick)" >&2; exit 4; }
done
text=$(mktemp)
trap 'rm -f "$text"' EXIT
# ~1000 characters, one line: Danish names and words with upper- and lower-case æøå,
# ASCII punctuation, digits, € @ { } and friends
line="Søren Ærø, Åse Østergård og Æbelø Kommune: CPR 010203-4567, Nørregade 12, 2. th., 8000 Aarhus C. Bemærkning: Blåbærgrød {ØL} @ 49,95 € (ÆØÅ/æøå) ~ fin! Ærlig Øjvind Ågård købte 7 æbler & 3 pærer; Ulrikke Ødegård-Hansen <uoh@kommune.dk> [sag #42] 100% ok? "
t=""
for i in 1 2 3 4; do t="$t$line"; done
printf '%s\n' "$t" > "$text"

echo "== vagt xio benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
echo "Xvfb 1920x1080x24; $(xterm -version 2>/dev/null | head -n1); $(dpkg-query -W -f='xdotool ${Version}' xdotool 2>/dev/null)"
"$root/tests/lib/with-xvfb" --screen 1920x1080x24 -- sh -c '
  set -e
  b="$1"; f="$2"
  xterm -geometry 100x30+200+200 -e sleep 600 & xt=$!
  sleep 1
  echo
  r=$(mktemp)
  "$b" capture 100 | tee "$r"
  "$b" import 10 | tee -a "$r"
  kill $xt 2>/dev/null || true
  awk -F"[ =]" "/^RESULT capture_shm/ {shm=\$3; fr=\$5} /^RESULT import/ {imp=\$3}
    END {printf \"import / MIT-SHM: %.0fx slower than rt_capture_screen (PIX), %.0fx than a raw frame\\n\", imp/shm, imp/fr}" "$r"
  rm -f "$r"
  echo
  echo "typing $(head -n1 "$f" | tr -d "\n" | wc -m) characters (one line, Danish + ASCII) into xterm -u8, LC_ALL=C.UTF-8:"
  "$b" type "$f"
  "$b" xdotool "$f"
' bench "$bench" "$text"
