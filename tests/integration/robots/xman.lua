-- xman (Athena widgets, x11-apps): the "Manual Page" button found by its caption opens the
-- manual browser; its Options menu (an Athena menu: opens on press, acts on release) is
-- walked by text to "Open New Manpage", which opens a second browser. Vendor updates come
-- through X resources (--set xrm="res: value;res: value").
local p = robot.params
local argv = { "xman", "-geometry", "+0+0",
  "-xrm", "*manualBrowser.geometry: 600x400+150+40" } -- a place for every browser
for r in (p.xrm or ""):gmatch("[^;]+") do
  argv[#argv + 1] = "-xrm"
  argv[#argv + 1] = r
end
local app = robot.app.start(argv)
local top = app:wait_window{ class = "Xman", timeout = 10 }

robot.step("Browser", function()
  top:click{ text = "Manual Page" }
end)
local b = robot.window.wait{ class = "Xman", name = "^Manual Page$", timeout = 10 }
robot.step("Ny side", function()
  b:menu{ "Options", "Open New Manpage" }
end)
robot.sleep(1) -- the new browser maps a moment later
local n = 0
for _, w in ipairs(robot.window.list()) do
  if w.class == "Xman" and w.title == "Manual Page" then n = n + 1 end
end
robot.log(("browsers: %d"):format(n))
