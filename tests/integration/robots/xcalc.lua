-- xcalc (Athena widgets, x11-apps): a sum on the keypad, AC found by its caption, the
-- display answering every click. Vendor updates come through X resources (--set xrm=
-- "res: value;res: value"). The calculator stays up (keep) so the test can read the
-- result it put in the PRIMARY selection when the robot clicked the display.
local p = robot.params
local argv = { "xcalc", "-geometry", "+0+0" }
for r in (p.xrm or ""):gmatch("[^;]+") do
  argv[#argv + 1] = "-xrm"
  argv[#argv + 1] = r
end
argv.keep = true
local app = robot.app.start(argv)
local w = app:wait_window{ class = "XCalc", timeout = 10 }

-- Keys by place: button N is in column (N-1)%5, row (N-1)//5 of the keypad.
local function key(n) return { x = 24 + 44 * ((n - 1) % 5), y = 75 + 30 * ((n - 1) // 5) } end
local digit = { ["0"] = 52, ["1"] = 47, ["2"] = 48, ["3"] = 49, ["4"] = 42, ["5"] = 43,
  ["6"] = 44, ["7"] = 37, ["8"] = 38, ["9"] = 39 }
local PLUS, EQUALS = key(50), key(55)

robot.step("Sum", function()
  w:click{ text = "AC" }
  for d in (p.a or "6"):gmatch("%d") do w:click(key(digit[d])) end
  w:click(PLUS)
  for d in (p.b or "4"):gmatch("%d") do w:click(key(digit[d])) end
  w:click(EQUALS)
  w:click{ x = 100, y = 17 } -- the display: xcalc puts its value in PRIMARY
end)
