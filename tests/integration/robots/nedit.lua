-- NEdit (Motif): text typed into a file, then File > Save by keyboard (Alt+F, S: no
-- sleeps; the posted menu must survive the next step, which must neither re-focus the
-- window nor move the pointer).
--   --set file=PATH (an existing file) [--set text=...] [--set xrm="res: value;..."]
--   [--set lang=LOCALE --set locpath=FOLDER]: the locale NEdit runs in (env)
--   [--set save=menu]: File > Save by w:menu (the entry "Save", not "Save As...")
local p = robot.params
local argv = { "nedit", "-geometry", "80x20+0+0" }
for r in (p.xrm or ""):gmatch("[^;]+") do
  argv[#argv + 1] = "-xrm"
  argv[#argv + 1] = r
end
argv[#argv + 1] = p.file
if p.lang then argv.env = { LANG = p.lang, LOCPATH = p.locpath } end
local app = robot.app.start(argv)
local w = app:wait_window{ class = "NEdit", timeout = 15 }

robot.step("Skriv", function()
  w:click{ x = 300, y = 150 }
  w:type(p.text or "Notat fra vagt")
end)
robot.step("Gem", function()
  if p.save == "menu" then
    w:menu{ "File", "Save" }
  else
    w:key("alt+f")
    w:key("s")
  end
end)
robot.sleep(1) -- NEdit writes the file
