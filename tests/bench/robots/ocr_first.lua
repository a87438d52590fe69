-- First find on a dense window (tests/bench/captions.sh): the window of class --set class
-- is already up; the first w:find_text of --set caption in this process (models loaded at
-- first use). The bench stamps each log line as it arrives; os.clock() is the process's
-- CPU time (every thread), the only clock the sandbox gives beside os.time.
robot.log("T start " .. os.clock())
local w = robot.window.wait{ class = robot.params.class, timeout = 20 }
robot.log("T window " .. os.clock())
local b = w:find_text(robot.params.caption, { timeout = 5 })
robot.log("T found " .. os.clock() .. " " ..
  (b and string.format("%d %d %d %d %s", b.x, b.y, b.w, b.h, b.text) or "nil"))
