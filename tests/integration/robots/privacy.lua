-- Types a citizen's CPR number and name into the demo app, then, as asked by mode:
-- "wait": a wait_text that never comes; "timeout": sleeps past --timeout; "popup": a
-- notice of another program appears over the form before Gem (drift mid-form); "resize":
-- the form is made bigger before Gem; else it saves.
-- Whatever happens, nothing typed may be quoted in a message or shown in evidence.
local p = robot.params
local app = robot.app.start{ p.app, "--out", p.out, "-geometry", "+0+0",
  "--variant", p.variant or "normal" }
local w = app:wait_window{ class = "VagtDemo", timeout = 15 }
w:ignore{ x = 0, y = 374, w = 640, h = 26 }
if p.evidence then robot.evidence = p.evidence end
robot.step("Borger", function()
  w:click{ x = 190, y = 37 }
  w:type("010190-1234")
  w:click{ x = 190, y = 71 }
  w:type("Søren Ærø")
  if p.mode == "resize" then -- the form grows after the typing: where the data stands is unknown
    robot.app.start{ "xdotool", "search", "--class", "VagtDemo", "windowsize", "%@", "720", "460" }
    robot.sleep(1)
  end
  if p.mode == "popup" then
    robot.app.start{ "xmessage", "-geometry", "+300+200", "Ny version er installeret" }
    robot.sleep(1)
  end
  w:click{ x = 216, y = 261 } -- Gem
end)
if p.mode == "wait" then w:wait_text("Kvittering", { timeout = 1 }) end
if p.mode == "timeout" then robot.sleep(60) end
if p.mode == "nowindow" then -- a window titled with the citizen's name; another never comes
  robot.app.start{ "xmessage", "-title", "Sag: Søren Ærø 010190-1234", "Sag åbnet" }
  robot.sleep(0.5)
  robot.window.wait{ class = "Findes", timeout = 1 }
end
if p.mode == "echo" then -- an application that echoes what it was given
  robot.app.start{ "sh", "-c", "echo borger 010190-1234; echo fejl 010190-1234 >&2" }
  robot.sleep(0.5)
end
robot.sleep(0.3)
