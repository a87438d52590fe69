-- robot.app.start with 1,000 arguments: the application gets every one of them.
local a = { "sh", "-c", 'echo "$#" > "$0"', robot.params.out }
for i = #a + 1, 1000 do a[i] = "x" .. i end
local app = robot.app.start(a)
while app:running() do robot.sleep(0.05) end
-- 1,000 one-byte arguments (the check once pushed one Lua value per element and crashed)
local b = { "true" }
for i = 2, 1000 do b[i] = "x" end
local t = robot.app.start(b)
while t:running() do robot.sleep(0.05) end
-- a bad element at the end of a long list is named, not a crash
local c = { "true" }
for i = 2, 999 do c[i] = "x" end
c[1000] = {}
local ok, err = pcall(robot.app.start, c)
robot.log(ok and "accepted a table" or tostring(err))
