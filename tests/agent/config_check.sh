#!/bin/sh
# Hostile and mistaken agent configurations: whatever the configuration does (metamethods
# on its settings tables, a finalizer that loops, a pattern that backtracks for ever, a FIFO
# where a file belongs), `vagt agent --check` ends with exit 2 and names the file and line.
# Validation: a time zone must be a real zone file, addresses and URLs hold no CR/LF, and a
# long token is read whole.
. "$(dirname "$0")/aglib.sh"
echo 'robot.log("ok")' > good.lua
mkfifo fifo
# expect NAME WANT_GREP CONFIG-TEXT: --check exits 2 within a generous bound and says WANT.
expect() {
  name=$1; want=$2; shift 2
  printf '%s\n' "$@" > "$name.lua"
  timeout 60 "$VAGT" agent --check --config "$name.lua" >"$name.out" 2>"$name.err"
  rc=$?
  if [ $rc -eq 2 ]; then ok "$name: exit 2"; else fail "$name: exit $rc, not 2"; show "$name.err"; fi
  if grep -q -- "$want" "$name.err"; then ok "$name: says '$want'"; else fail "$name: no '$want'"; show "$name.err"; fi
}
expect index "index.lua:3: robot 'a': the table has a metatable" \
  'state = "s"' 'listen = false' \
  'robot "a" (setmetatable({ script = "good.lua" }, { __index = function() error("boom") end }))'
expect pairs "pairs.lua:3: channel 'c' email: the table has a metatable" \
  'state = "s"' 'listen = false' \
  'channel "c" { email = setmetatable({}, { __index = function() error("boom") end }) }'
expect params "params.lua:3: robot 'a': 'params': the table has a metatable" \
  'state = "s"' 'listen = false' \
  'robot "a" { script = "good.lua", params = setmetatable({}, { __index = function() while true do end end }) }'
expect gcloop "gcloop.lua:4: the configuration did not finish within" \
  'state = "s"' 'listen = false' \
  'setmetatable({}, { __gc = function() while true do end end })' \
  'collectgarbage()'
expect gcclose "gcclose.lua" \
  'state = "s"' 'listen = false' \
  'robot "a" { script = "good.lua", schedule = "* * * * *", tz = "nowhere" }' \
  'setmetatable({}, { __gc = function() while true do end end })'
check "gcclose: the real mistake is still reported" grep -q "gcclose.lua:3: robot 'a': unknown time zone 'nowhere'" gcclose.err
expect pattern "pattern.lua:3: the configuration did not finish within" \
  'state = "s"' 'listen = false' \
  'local x = string.find(string.rep("a", 40), string.rep("a*", 40) .. "b")'
expect tokfifo "tokfifo.lua:3: token file .*fifo is not a regular file" \
  'state = "s"' 'listen = "127.0.0.1:1"' 'token_file = "fifo"'
expect scriptfifo "scriptfifo.lua:3: robot 'a': script .*fifo is not a regular file" \
  'state = "s"' 'listen = false' 'robot "a" { script = "fifo" }'
timeout 60 "$VAGT" agent --check --config fifo >cfifo.out 2>cfifo.err
rc=$?
check "a FIFO as the configuration itself: exit 2 ($rc)" test $rc -eq 2
check "says so" grep -q "fifo: not a regular file" cfifo.err

# Validation gaps
expect zonetab "zonetab.lua:3: robot 'a': unknown time zone 'zone.tab'" \
  'state = "s"' 'listen = false' 'robot "a" { script = "good.lua", schedule = "0 1 * * *", tz = "zone.tab" }'
expect zonedir "zonedir.lua:3: robot 'a': unknown time zone 'Europe'" \
  'state = "s"' 'listen = false' 'robot "a" { script = "good.lua", schedule = "0 1 * * *", tz = "Europe" }'
expect webhookcrlf "webhookcrlf.lua:3: channel 'c': webhook .* control character" \
  'state = "s"' 'listen = false' 'channel "c" { webhook = "http://x.example/a\r\nX-Evil: 1" }'
expect mailcrlf "mailcrlf.lua:3: channel 'c' email: 'to' .* control character" \
  'state = "s"' 'listen = false' \
  'channel "c" { email = { to = { "ok@x.dk", "a@x.dk\r\nRCPT TO:<b@y.dk>" }, from = "v@x.dk", smtp = "smtp://m:25" } }'
expect fromcrlf "fromcrlf.lua:3: channel 'c' email: 'from' .* control character" \
  'state = "s"' 'listen = false' \
  'channel "c" { email = { to = "a@x.dk", from = "v@x.dk\nBcc: z@y.dk", smtp = "smtp://m:25" } }'
expect smtpcrlf "smtpcrlf.lua:3: channel 'c' email: 'smtp' .* control character" \
  'state = "s"' 'listen = false' \
  'channel "c" { email = { to = "a@x.dk", from = "v@x.dk", smtp = "smtp://m:25/\r\n" } }'
expect urlcrlf "urlcrlf.lua:3: 'public_url' .* control character" \
  'state = "s"' 'listen = false' 'public_url = "http://h/\r\nx"'

# allow = { programs, files }: checked when the configuration is read, with its line.
expect allowprog "allowprog.lua:3: 'allow': program 'no-such-prog-x': cannot start 'no-such-prog-x': not found in PATH" \
  'state = "s"' 'listen = false' 'allow = { programs = { "true", "no-such-prog-x" } }'
expect allowfile "allowfile.lua:3: 'allow': file '$T/no-such-dir': No such file or directory" \
  'state = "s"' 'listen = false' 'allow = { programs = { "true" }, files = { "no-such-dir" } }'
expect allowempty "allowempty.lua:3: 'allow': 'programs' must list at least one program" \
  'state = "s"' 'listen = false' 'allow = { files = { "." } }'
expect allowkey "allowkey.lua:3: 'allow': unknown key 'program' (known: programs, files)" \
  'state = "s"' 'listen = false' 'allow = { program = { "true" } }'
expect allowtype "allowtype.lua:3: 'allow' must be a table" \
  'state = "s"' 'listen = false' 'allow = "true"'
expect allowrobot "allowrobot.lua:3: robot 'a': 'allow': program 'nope-x'" \
  'state = "s"' 'listen = false' 'robot "a" { script = "good.lua", allow = { programs = { "nope-x" } } }'
printf 'state = "s"\nlisten = false\nallow = { programs = { "true" }, files = { "." } }\nrobot "a" { script = "good.lua", allow = { programs = { "/usr/bin/touch" } } }\n' > allowok.lua
"$VAGT" agent --check --config allowok.lua >allowok.out 2>allowok.err
check "a valid allow-list is accepted" test $? -eq 0

printf 'state = "s"\nlisten = false\nrobot "a" { script = "good.lua", schedule = "0 1 * * *", tz = "Europe/Copenhagen" }\n' > zone.lua
"$VAGT" agent --check --config zone.lua >zone.out 2>zone.err
check "a real zone is still accepted" test $? -eq 0

# A 600-character token is read whole, not cut at 511.
python3 -c 'print("t" * 300 + "u" * 300)' > longtok
chmod 600 longtok
PORT=$(free_port)
printf 'state = "st"\nlisten = "127.0.0.1:%s"\ntoken_file = "longtok"\n' "$PORT" > web.lua
"$VAGT" agent --config web.lua >web.out 2>web.err &
D=$!; PIDS="$PIDS $D"
up() { curl -s -o /dev/null "http://127.0.0.1:$PORT/"; }
wait_for 10 up || { fail "the pages did not come up"; show web.err; }
TOK=$(cat longtok)
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
check "the whole 600-character token opens the pages" test "$(code -H "Authorization: Bearer $TOK" "http://127.0.0.1:$PORT/")" = 200
check "its first 511 characters do not" test "$(code -H "Authorization: Bearer $(printf %.511s "$TOK")" "http://127.0.0.1:$PORT/")" = 401
kill $D; wait $D 2>/dev/null
python3 -c 'print("t" * 5000)' > hugetok
chmod 600 hugetok
printf 'state = "st"\nlisten = "127.0.0.1:1"\ntoken_file = "hugetok"\n' > huge.lua
"$VAGT" agent --check --config huge.lua >huge.out 2>huge.err
check "a token file over 4 KiB: exit 2" test $? -eq 2
check "says so with the line" grep -q "huge.lua:3: token file .* is larger than" huge.err
finish
