-- robot.app.start's environment and folder: what a started program sees.
--   --set dir=FOLDER (exists; holds tool.sh)
local p = robot.params
local function done(app) while app:running() do robot.sleep(0.02) end end
local function try(what, argv)
  local ok, err = pcall(robot.app.start, argv)
  robot.log(what .. ": " .. (ok and "accepted" or tostring(err)))
end
-- the default environment, and one the robot changes
done(robot.app.start{ "sh", "-c", 'env > "$0"', p.dir .. "/env.default" })
done(robot.app.start{ "sh", "-c", 'env > "$0"', p.dir .. "/env.changed",
                      env = { FOO = "a b=c", HOME = "/nowhere", LANG = false, N = 42 } })
-- the working folder, and a program named relative to it
done(robot.app.start{ "sh", "-c", 'pwd > "$0"', p.dir .. "/pwd.txt", cwd = p.dir .. "/sub" })
done(robot.app.start{ "./tool.sh", cwd = p.dir })
-- mistakes are named
try("no folder", { "true", cwd = p.dir .. "/missing" })
try("a file as folder", { "true", cwd = p.dir .. "/tool.sh" })
try("bad name", { "true", env = { ["A-B"] = "x" } })
try("bad value", { "true", env = { A = {} } })
try("no program", { "no-such-program-vagt" })
