-- A case-notes robot on the Tk fixture "Journal" (tests/apps/tk): text fields found by
-- their labels, a combo list, a counter whose display answers the robot's clicks, and the
-- File menu by text, by keys or by position. Every action is a guarded step.
--   --set app=.../vagt-tk-journal --set log=FILE [--set variant=NAME]
--   [--set geometry=+X+Y] [--set cpr=...] [--set navn=...] [--set by=menu|keys|position]
--   [--set popups=1] (the application's pop-ups may open while the name is typed)
local p = robot.params
local app = robot.app.start{ p.app, "--log", p.log, "--variant", p.variant or "none",
  "--geometry", p.geometry or "+0+0" }
local w = app:wait_window{ class = "Journal", timeout = 20 }

robot.step("Notat", function()
  w:click{ text = "CPR-nummer", anchor = "left", dx = 160 }
  w:type(p.cpr or "010190-1234")
  w:click{ text = "Navn", anchor = "left", dx = 160 }
  w:type(p.navn or "Søren Ærø", { popups = p.popups == "1" })
  w:click{ x = 240, y = 152 } -- opens the Sagstype list
  w:click{ text = "Klage", popup = true }
  w:click{ text = "Gem" }
end)

robot.step("Tæl", function()
  w:click{ x = 308, y = 270 } -- +1: the display shows 1, then 2
  w:click{ x = 308, y = 270 }
end)

robot.step("Gem journal", function()
  if p.by == "keys" then
    w:key("alt+f")
    w:key("g")
  elseif p.by == "position" then
    w:press{ x = 22, y = 15 }
    w:move{ x = 40, y = 64 } -- the second entry of Filer
    w:release{}
  else
    w:menu{ "Filer", "Gem journal" }
  end
end)
robot.sleep(0.3) -- the app logs the last action
