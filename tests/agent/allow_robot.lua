-- The agent's allow-list test robot: starts what it may and tries what it may not.
local d = robot.params.dir
local function done(app) while app:running() do robot.sleep(0.02) end end
done(robot.app.start{ "touch", d .. "/by-touch" })
local n = 0
for _ in robot.items("in", d .. "/in/list.csv") do n = n + 1 end
robot.log("items read: " .. n)
local ok, err = pcall(robot.app.start, { "sh", "-c", "touch " .. d .. "/by-sh" })
if ok then done(err) end
robot.log(ok and "sh started" or tostring(err))
ok, err = pcall(robot.items, "out", d .. "/other.csv")
robot.log(ok and "other.csv read" or tostring(err))
