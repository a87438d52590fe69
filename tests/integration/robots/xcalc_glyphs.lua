-- xcalc's one-character captions by their text: 9 (read alone as g), C (read as c), "-"
-- (read as a dash; the square root's bar beside the radical is not one), "=" (the ÷ key,
-- read as "=", is told apart by its dots).
-- The result is read back from PRIMARY after a click on the display.
local app = robot.app.start{ "xcalc", "-geometry", "+0+0" }
local w = app:wait_window{ class = "XCalc", timeout = 10 }
local c = w:find_text("C")
robot.log(string.format("C at %d,%d", c.x, c.y))
local g = w:find_text("9")
robot.log(string.format("9 at %d,%d", g.x, g.y))
local ok, err = pcall(w.find_text, w, "-")
robot.log("- alone: " .. (ok and err and string.format("at %d,%d", err.x, err.y) or tostring(err)))
ok, err = pcall(w.find_text, w, "÷")
robot.log("divide: " .. (ok and "found" or tostring(err)))
local KEYS = { x = 0, y = 55, w = 240, h = 370 } -- the keypad: the display shows digits too
robot.step("Regn", function()
  w:click{ text = "AC" }
  w:click{ text = "9", region = KEYS }
  w:click{ text = "9", region = KEYS }
  w:click{ text = "-" }
  w:click{ text = "3", region = KEYS }
  w:click{ text = "=" }
  w:click{ x = 100, y = 17 } -- the display: xcalc puts its value in PRIMARY
end)
-- xcalc takes PRIMARY when it handles the click, which may be after the step returns
local v
for _ = 1, 100 do
  v = robot.clipboard.get("PRIMARY")
  if v then break end
  robot.sleep(0.1)
end
robot.log("result " .. tostring(v))
