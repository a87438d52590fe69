#!/bin/sh
# Self-test of vagt-demo-app. Needs an X display of its own: run it through tests/lib/with-xvfb
#   tests/lib/with-xvfb [--wm twm|openbox] -- tests/apps/selftest.sh path/to/vagt-demo-app
# xdotool is used here only as a check tool (robots use vagt). Every wait is bounded polling.
# Exit: 0 pass, 1 fail (a missing check tool is a failure: CI installs them all).
set -u
app=${1:?usage: selftest.sh path/to/vagt-demo-app path/to/vagt-keymap-bind}
keymap=${2:?usage: selftest.sh path/to/vagt-demo-app path/to/vagt-keymap-bind}

[ -n "${DISPLAY:-}" ] || { echo "selftest: no DISPLAY (use tests/lib/with-xvfb)" >&2; exit 1; }
for tool in xdotool import identify; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed (apt-get install it)" >&2; exit 1; }
done

tmp=$(mktemp -d) || exit 1
apppid=""
cleanup() {
  [ -n "$apppid" ] && kill "$apppid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# xdotool decodes its argument in the current locale: give it UTF-8 whatever the app gets
xtype() { LC_ALL=C.UTF-8 xdotool type "$@"; }

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
die() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# wait_for SECONDS COMMAND...: poll every 0.1 s until COMMAND succeeds
wait_for() {
  n=$(($1 * 10)); shift
  while [ "$n" -gt 0 ]; do
    "$@" && return 0
    sleep 0.1
    n=$((n - 1))
  done
  return 1
}

# layout FILE TYPE ID: "cx cy" of an item printed by --print-layout
center() {
  sed -n "s/.*\"type\":\"$2\",\"id\":\"$3\".*\"cx\":\([0-9]*\),\"cy\":\([0-9]*\).*/\1 \2/p" "$1" | head -n1
}
field_y() {
  sed -n "s/.*\"type\":\"$2\",\"id\":\"$3\".*\"y\":\([0-9]*\),\"w\".*/\1/p" "$1" | head -n1
}

# find_window TITLE-REGEX: id of a visible VagtDemo window with that title
find_window() {
  for w in $(xdotool search --onlyvisible --class '^VagtDemo$' 2>/dev/null); do
    if xdotool getwindowname "$w" 2>/dev/null | grep -Eq "$1"; then echo "$w"; return 0; fi
  done
  return 1
}
have_window() { [ -n "$(find_window "$1")" ]; }
no_window() { [ -z "$(find_window "$1")" ]; }

# start VARIANT OUTFILE [ARGS...]: start the app, wait for its main window, set $win
start() {
  variant=$1 out=$2; shift 2
  "$app" --variant "$variant" --out "$out" -geometry +10+10 "$@" 2>"$tmp/app.err" &
  apppid=$!
  wait_for 10 have_window '^Sagsregistrering$' || { cat "$tmp/app.err" >&2; die "$variant: no window"; }
  win=$(find_window '^Sagsregistrering$')
}

# stop: SIGTERM, the app must exit 0 promptly
stop() {
  kill -TERM "$apppid" 2>/dev/null
  n=50
  while kill -0 "$apppid" 2>/dev/null && [ "$n" -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
  if kill -0 "$apppid" 2>/dev/null; then
    kill -KILL "$apppid"; fail "app ignored SIGTERM"
  fi
  wait "$apppid"; rc=$?
  [ "$rc" -eq 0 ] || fail "app exit status $rc after SIGTERM"
  apppid=""
}

# focus_is ID: the app publishes its focused field in the property _VAGT_DEMO_FOCUS
focus_is() { xprop -id "$win" -notype _VAGT_DEMO_FOCUS 2>/dev/null | grep -q "= \"$1\""; }

# wait_focus ID: a window manager with click-to-focus grabs (openbox) hands the click to the
# app later than keys typed right after it; wait until the app has seen the click.
wait_focus() {
  if command -v xprop >/dev/null; then
    wait_for 5 focus_is "$1" || fail "focus did not move to $1"
  else
    sleep 0.5
  fi
}

# click LAYOUTFILE TYPE ID [FOCUS]: click the centre of an item, window-relative; for a field
# (or a label) wait until the app has given the field FOCUS (default: ID) the keyboard focus
click() {
  focus=${4:-$3}
  set -- "$1" "$2" "$3" $(center "$1" "$2" "$3")
  [ $# -eq 5 ] || die "no coordinates for $2 $3"
  xdotool mousemove --window "$win" "$4" "$5" click 1
  case "$2" in field|label) wait_focus "$focus" ;; esac
}

lines() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }

# expect FILE EXPECTEDFILE NLINES WHAT: wait for NLINES lines, then compare exactly
expect() {
  if ! wait_for 10 lines "$1" "$3"; then
    fail "$4: output has not $3 line(s)"
  elif cmp -s "$1" "$2"; then
    ok "$4"
  else
    fail "$4: output differs"; echo "expected:" >&2; od -c "$2" >&2; echo "got:" >&2; od -c "$1" >&2
  fi
}

# ---- command line ---------------------------------------------------------------------
"$app" --help >"$tmp/help" 2>&1 && grep -q -- "--variant" "$tmp/help" && ok "--help" || fail "--help"
"$app" --no-such-flag 2>/dev/null; [ $? -eq 2 ] && ok "unknown flag: exit 2" || fail "unknown flag not exit 2"
"$app" --variant nope 2>/dev/null; [ $? -eq 2 ] && ok "unknown variant: exit 2" || fail "unknown variant"

# ---- every variant realizes; --print-layout reflects the variant ----------------------
for v in $("$app" --list-variants); do
  "$app" --variant "$v" --print-layout >"$tmp/$v.layout" 2>"$tmp/$v.err" ||
    { cat "$tmp/$v.err" >&2; fail "variant $v: --print-layout failed"; continue; }
  grep -q '"type":"window","class":"VagtDemo".*"w":640,"h":400' "$tmp/$v.layout" ||
    fail "variant $v: window is not VagtDemo 640x400"
done
L=$tmp/normal.layout
[ "$(grep -c '"type":"field"' "$L")" -eq 6 ] || fail "normal: not 6 fields"
grep -q '"type":"label","id":"navn","text":"Fulde navn"' "$tmp/renamed.layout" || fail "renamed: label"
[ "$(field_y "$tmp/swapped.layout" field navn)" = "$(field_y "$L" field adresse)" ] || fail "swapped"
[ "$(field_y "$tmp/banner.layout" field cpr)" -eq $(($(field_y "$L" field cpr) + 40)) ] || fail "banner"
grep -q '"type":"field","id":"telefon"' "$tmp/inserted.layout" || fail "inserted: no telefon"
grep -q '"id":"gem"' "$tmp/nobutton.layout" && fail "nobutton: Gem still there"
grep -q '"type":"window".*"window":"whatsnew"' "$tmp/whatsnew.layout" || fail "whatsnew: no dialog"
[ "$failures" -eq 0 ] && ok "all variants realize, layouts as specified"

# ---- normal: click each field, type, Gem ----------------------------------------------
# Bind the non-ASCII keysyms for good first (both cases): xdotool's own bind-type-unbind per
# keystroke races with the app's keymap refetch and loses characters under load, and
# xdotool 3.2016 types a capital it has to bind as lower case.
"$keymap" ae:AE oslash:Oslash aring:Aring udiaeresis:Udiaeresis eacute:Eacute EuroSign >/dev/null ||
  die "could not bind keysyms"
out=$tmp/normal.out
start normal "$out"
click "$L" field cpr;         xtype '120356'; xdotool key Return; xtype -- '-7890'
click "$L" field navn;        xtype 'Søren Ærø Højgård'
click "$L" field adresse;     xtype 'Nørregade 7, 1. tv.'
click "$L" field postnr;      xtype '1165'
click "$L" field by;          xtype 'København K'
click "$L" field bemaerkning; xtype 'ÆØÅ æøå ü é € @ { } ~ \ '"'"'"'
click "$L" button gem
printf '%s\t%s\t%s\t%s\t%s\t%s\n' '120356-7890' 'Søren Ærø Højgård' 'Nørregade 7, 1. tv.' '1165' \
  'København K' 'ÆØÅ æøå ü é € @ { } ~ \ '"'"'"' >"$tmp/exp"
expect "$out" "$tmp/exp" 1 "normal: clicked fields, typed UTF-8, Gem wrote the exact line"

# the form was cleared; Tab moves to the next field; Ctrl+S is Gem
click "$L" field cpr; xtype '1'; xdotool key Tab; xtype '2'; xdotool key ctrl+s
printf '1\t2\t\t\t\t\n' >>"$tmp/exp"
expect "$out" "$tmp/exp" 2 "normal: form cleared after Gem, Tab, Ctrl+S"

# Annuller clears without saving
click "$L" field by; xtype 'x'; click "$L" button annuller; wait_focus cpr; xdotool key ctrl+s
printf '\t\t\t\t\t\n' >>"$tmp/exp"
expect "$out" "$tmp/exp" 3 "normal: Annuller cleared without saving"
stop

# ---- swapped: the old Navn position is now Adresse; output stays semantic -------------
out=$tmp/swapped.out
start swapped "$out"
click "$L" field navn adresse; xtype 'X'; xdotool key ctrl+s
printf '\t\tX\t\t\t\n' >"$tmp/exp"
expect "$out" "$tmp/exp" 1 "swapped: typing at Navn's old position fills adresse"
stop

# ---- inserted: telefon is an extra last column ----------------------------------------
out=$tmp/inserted.out
I=$tmp/inserted.layout
start inserted "$out"
click "$I" field telefon; xtype '12345678'
click "$I" field cpr; xtype '1'
click "$I" button gem
printf '1\t\t\t\t\t\t12345678\n' >"$tmp/exp"
expect "$out" "$tmp/exp" 1 "inserted: telefon written as the last column"
stop

# ---- renamed: shown, screenshot of the window ------------------------------------------
start renamed "$tmp/renamed.out"
if import -window "$win" "$tmp/renamed.png" 2>"$tmp/import.err" &&
   [ "$(identify -format '%wx%h' "$tmp/renamed.png")" = "640x400" ]; then
  ok "renamed: runs, screenshot 640x400"
else
  cat "$tmp/import.err" >&2; fail "renamed: screenshot"
fi
kill -0 "$apppid" 2>/dev/null || fail "renamed: app died"
stop

# ---- whatsnew: a modal dialog in front; OK closes it ----------------------------------
start whatsnew "$tmp/whatsnew.out"
if wait_for 10 have_window '^Nyheder i version 2\.0$'; then
  win=$(find_window '^Nyheder i version 2\.0$')
  click "$tmp/whatsnew.layout" button ok
  wait_for 10 no_window '^Nyheder i version 2\.0$' && ok "whatsnew: dialog shown, OK closes it" ||
    fail "whatsnew: OK did not close the dialog"
else
  fail "whatsnew: no dialog"
fi
stop

if [ "$failures" -ne 0 ]; then
  echo "selftest: $failures failure(s)" >&2
  exit 1
fi
echo "selftest: all passed"
