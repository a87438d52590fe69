#!/bin/sh
# The LuaLS definitions (scripts/types/robot.lua) and the API vagt really has stay in step.
. "$(dirname "$0")/lib.sh"
meta="$SRC/scripts/types/robot.lua"
"$VAGT" check --api > api.txt || fail "vagt check --api failed"
[ -s api.txt ] || fail "empty API list"
while read -r name; do
  if grep -qE "^function ${name}\(|^${name} = " "$meta"; then :; else fail "$name is not in $meta"; fi
done < api.txt
sed -n 's/^function \([A-Za-z_.:]*\)(.*/\1/p' "$meta" > declared.txt
while read -r name; do
  grep -qx "$name" api.txt || fail "$meta declares $name, which vagt does not have"
done < declared.txt
[ "$failures" -eq 0 ] && ok "$(wc -l < api.txt) API names match"
finish
