#!/bin/sh
# A window that vanished gives a Lua error the script can catch; uncaught, exit 1 - never
# a dead process (Xlib's default error handler would exit).
. "$(dirname "$0")/lib.sh"
run_vagt c run "$ROBOTS/vanish.lua" --display "$DISPLAY" --runs runs
expect_rc 0 c "caught error on a vanished window"
expect_in c.err "caught:" "the script caught the error"
run_vagt u run "$ROBOTS/vanish.lua" --display "$DISPLAY" --runs runs --set uncaught=1
expect_rc 1 u "uncaught error on a vanished window"
expect_in u.err "no longer exists" "message says the window is gone"
expect_in u.err "vanish.lua:12" "message names the script line"
finish
