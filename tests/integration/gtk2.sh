#!/bin/sh
# The guard on GTK 2 (gtk-demo from Debian's gtk2.0-examples), an application this project
# did not write. The dialogs demo copies the name the robot typed into a dialog of its own:
#   - recorded twice with other citizens, a run with a third passes (the copy is data the
#     robot typed: not compared, never an anchor), and the demo shows the new town (the
#     robot reads it back; it fails otherwise);
#   - the demo's main window behind the dialogs window is not read as the dialogs window's
#     (find_text; a click by text never lands there), and the text under a dialog that
#     just closed is read once drawn again (the robot reads it back);
#   - no name or town reaches a message or a file of the run folder;
#   - GTK's stock labels in Danish (LANGUAGE=da, GTK's own translations) halt before OK.
. "$(dirname "$0")/lib.sh"
command -v gtk-demo >/dev/null || { echo "gtk-demo missing (gtk2.0-examples)" >&2; exit 1; }
R="$ROBOTS/gtk_dialogs.lua"
gd() { # gd PREFIX MODE [--set k=v]...
  p=$1 mode=$2; shift 2
  run_vagt "$p" "$mode" "$R" --display "$DISPLAY" --runs "runs-$p" --baseline bl "$@"
}
no_data() { # no_data PREFIX NAME...: none of them in the run folder or the messages
  p=$1; shift
  hits=""
  for d in "$@"; do
    h=$(grep -rlF -- "$d" "runs-$p" "$p.err" "$p.out" 2>/dev/null)
    [ -n "$h" ] && hits="$hits $d:$h"
  done
  if [ -z "$hits" ]; then ok "$p: no name or town in the run folder or the messages"
  else fail "$p: typed data in:$hits"; fi
}

gd r1 record
expect_rc 0 r1 "record the dialogs robot"
gd r2 record --set "navn=Birthe Kjærgård" --set by=Vejle --set by2=Skagen
expect_rc 0 r2 "a second recording with another citizen merges"
gd a run --set "navn=Jens Hansen" --set by=Rønne --set by2=Hellerup
expect_rc 0 a "a third citizen passes, and the demo shows the new town"
no_data a "Jens" "Hansen" "Rønne" "Hellerup"
gd da run --set language=da
expect_rc 3 da "stock labels in Danish halt"
expect_in da.err "HALTED before sending input" "da: halted before the input"
expect_in da.err "step 'Ret by" "da: at the dialog's step"
no_data da "Søren" "Ærøskøbing" "Åbyhøj"
finish
