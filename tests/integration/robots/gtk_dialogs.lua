-- gtk-demo (GTK 2, Debian's gtk2.0-examples), "Dialog and Message Boxes": a name and a
-- town into the demo's two entries, then its Interactive Dialog (which shows both again
-- in entries of its own) gets a new town and OK; the demo window must then show the new
-- town. The dialog's copy of the name is data the robot typed, shown elsewhere.
-- Vendor updates come through GTK's own mechanisms: --set language=da (stock labels),
-- --set rc=FILE (a gtkrc).
local p = robot.params
local env = {}
if p.rc then env.GTK2_RC_FILES = p.rc end
if p.language then env.LANGUAGE = p.language end
local app = robot.app.start{ "gtk-demo", env = env }
local main = app:wait_window{ name = "^GTK%+ Code Demos$", timeout = 20 }
local navn = p.navn or "Søren Ærø"
local by = p.by or "Ærøskøbing"
local by2 = p.by2 or "Åbyhøj"

robot.step("Demo", function()
  main:click{ text = "Dialog and Message Boxes", double = true }
end)
local d = app:wait_window{ name = "^Dialogs$", timeout = 10 }
robot.step("Felter", function()
  d:click{ text = "Entry 1", dx = 120 }
  d:type(navn)
  d:click{ text = "Entry 2", dx = 120 }
  d:type(by)
end)
robot.step("Dialog", function()
  d:click{ text = "Interactive Dialog" }
end)
local dlg = app:wait_window{ name = "^Interactive Dialog$", timeout = 10 }
robot.step("Ret by", function()
  dlg:click{ text = "Entry 2", dx = 120 }
  dlg:key("ctrl+a")
  dlg:type(by2)
  dlg:click{ text = "OK", ignore_case = true } -- GTK's stock OK reads "ok" to OCR
end)
dlg:wait_closed{ timeout = 10 }
-- the demo's main window stands beside d, behind it: its words (the demo list, the
-- source code, which names "Entry 2" too) are not d's
assert(not d:find_text("Dialog and Message Boxes"), "the main window's text was found in d")
local e2 = d:find_text("Entry 2", { timeout = 5 })
local got = d:read_text{ x = e2.x + e2.w + 4, y = e2.y - 6, w = 220, h = e2.h + 12 }
-- the demo window must show the new town: the run fails (exit 1) otherwise
assert(got:find(by2, 1, true), "the demo window does not show the new town")
