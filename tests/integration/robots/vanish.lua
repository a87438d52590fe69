-- A window that goes away under the robot: a Lua error the script can catch, never a crash.
local app = robot.app.start{ "xmessage", "-geometry", "+10+10", "vagt vanish test" }
local w = app:wait_window{ class = "Xmessage", timeout = 15 }
app:close()
robot.sleep(0.3)
local ok, err = pcall(w.click, w, { x = 5, y = 5 })
assert(not ok, "click on a closed window succeeded")
assert(tostring(err):find("no longer exists"), "unexpected error: " .. tostring(err))
assert(not w:exists())
robot.log("caught:", err)
if robot.params.uncaught then
  w:type("x")
end
