-- A secret where keys and names are kept: in a step name, a key = name, a w:key. The
-- first two are refused; what w:key sent is not kept. The demo app records what it got.
local pin = robot.secret("pin")
local p = robot.params
local app = robot.app.start{ p.app, "--out", p.out, "-geometry", "+0+0" }
local w = app:wait_window{ class = "VagtDemo", timeout = 15 }
local ok, err = pcall(robot.step, "Login " .. pin, function() end)
robot.log("step name: " .. tostring(err))
robot.step("Pin", function()
  ok, err = pcall(w.click, w, { x = 190, y = 37, key = "k" .. pin })
  robot.log("key option: " .. tostring(err))
  w:click{ x = 190, y = 37 }
  w:key(pin)
end)
