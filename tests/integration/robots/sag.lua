-- The Swing fixture "Sag" (tests/apps/swing): a case form with a combo list and a menu that
-- Swing draws inside its frame (lightweight pop-ups). Every action is a guarded step.
--   --set app=.../vagt-swing-sag --set classes=DIR --set log=FILE [--set variant=NAME]
--   [--set laf=CLASS] [--set cpr=...] [--set navn=...] [--set popups=1]
local p = robot.params
local argv = { p.app, "--classes", p.classes }
if p.laf then argv[#argv + 1] = "-Dswing.defaultlaf=" .. p.laf end
for _, a in ipairs{ "--", "--log", p.log, "--variant", p.variant or "normal" } do
  argv[#argv + 1] = a
end
local app = robot.app.start(argv)
local w = app:wait_window{ class = "Sag", name = "^Sag$", timeout = 30 }

robot.step("Sag", function()
  w:click{ text = "CPR-nummer", anchor = "left", dx = 160 }
  w:type(p.cpr or "010190-1234")
  w:click{ text = "Navn", anchor = "left", dx = 160 }
  w:type(p.navn or "Søren Ærø", { popups = p.popups == "1" })
  w:click{ x = 240, y = 126 } -- the Sagstype list
  w:click{ text = "Klage", region = { x = 140, y = 138, w = 200, h = 80 } }
  w:click{ text = "Gem" }
end)
robot.step("Gem sag", function()
  w:menu{ "Filer", "Gem sag" }
end)
robot.sleep(0.5)
