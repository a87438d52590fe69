#!/bin/sh
# w:wait_title and w:wait_closed on a real toolkit (Tk): the robot waits for what the app
# does after a delay, and the app's log proves the order of events; waits that cannot be
# met raise at their deadline without quoting the title.
. "$(dirname "$0")/lib.sh"
cat > waits <<'TCL'
# wish names the class after the script: Waits
set log [open [lindex $argv 0] a]
fconfigure $log -buffering line
wm title . Sag
button .gem -text Gem -command {after 700 {wm title . "Gemt: sag 17"; puts $log titled}}
button .luk -text Luk -command {after 700 {puts $log closing; destroy .}}
pack .gem .luk -padx 40 -pady 10
TCL
: > app.log
run_vagt r record "$ROBOTS/waits.lua" --display "$DISPLAY" --runs runs --baseline bl \
  --set "tcl=$T/waits" --set "log=$T/app.log"
expect_rc 0 r "record the waits robot"
expect_in r.err "title matched: yes" "wait_title returned the new title"
expect_in r.err "no such title: raised" "a title that never comes raises, unquoted"
expect_in r.err "still open: raised" "a window that stays raises at the deadline"
expect_in r.err "closed: true" "wait_closed saw the window go"
[ "$(tr '\n' ' ' < app.log)" = "titled closing " ] && ok "the app titled, then closed" ||
  fail "app log: $(cat app.log)"
finish
