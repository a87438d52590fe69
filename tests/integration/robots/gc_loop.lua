-- A finalizer that never returns: Lua runs __gc with hooks off, so the count hook cannot
-- stop it; only the watchdog can.
robot.app.start{ "xcalc", "-name", robot.params.marker }
robot.log("READY")
setmetatable({}, { __gc = function() while true do end end })
collectgarbage()
local n = 0
while true do n = n + 1 ; local t = {} end
