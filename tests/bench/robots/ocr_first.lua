-- First find on a dense window (tests/bench/captions.sh): with --set file, the robot starts
-- NEdit on that file (the OCR models load in the background from the run's start, while
-- the application starts); without it, the window of class --set class is already up.
-- Then the first w:find_text of --set caption in this process. The bench stamps each log
-- line as it arrives; os.clock() is the process's CPU time (every thread), the only clock
-- the sandbox gives beside os.time.
robot.log("T start " .. os.clock())
local p = robot.params
local w
if p.file then
  local app = robot.app.start{ "nedit", "-geometry", "88x40+0+0", p.file }
  w = app:wait_window{ class = p.class, timeout = 20 }
else
  w = robot.window.wait{ class = p.class, timeout = 20 }
end
robot.log("T window " .. os.clock())
local b = w:find_text(p.caption, { timeout = 5 })
robot.log("T found " .. os.clock() .. " " ..
  (b and string.format("%d %d %d %d %s", b.x, b.y, b.w, b.h, b.text) or "nil"))
w:find_text(p.caption, { timeout = 5 }) -- again, the window unchanged: from the cache
robot.log("T warm " .. os.clock())
