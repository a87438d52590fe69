-- w:wait_title and w:wait_closed on a small Tk dialog (its script is given as params.tcl):
-- "Gem" sets the title after a moment, "Luk" closes the window after a moment; the app
-- logs both. A title that never comes and a window that stays raise at their deadline.
local p = robot.params
local app = robot.app.start{ "wish", p.tcl, p.log }
local w = app:wait_window{ class = "Waits", timeout = 10 }
robot.step("Vent", function()
  w:click{ text = "Gem" }
  local t = w:wait_title("^Gemt", { timeout = 5 })
  robot.log("title matched: " .. (t:match("^Gemt: sag %d+$") and "yes" or "no"))
  local ok, err = pcall(w.wait_title, w, "^Slettet", { timeout = 0.5 })
  robot.log("no such title: " .. (not ok and err:find("did not match '^Slettet' within 0.5 s", 1, true)
    and not err:find("sag 17", 1, true) and "raised" or tostring(err)))
  ok, err = pcall(w.wait_closed, w, { timeout = 0.5 })
  robot.log("still open: " .. (not ok and err:find("did not close within 0.5 s", 1, true)
    and "raised" or tostring(err)))
  w:click{ text = "Luk" }
end)
robot.log("closed: " .. tostring(w:wait_closed{ timeout = 5 }))
