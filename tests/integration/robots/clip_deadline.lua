-- robot.clipboard.get waiting on an owner that never answers gives way to the step's
-- deadline (tests/integration/clipboard.sh): the step ends at 1 s, not at the get's 60 s.
local p = robot.params
robot.app.start{ p.owner, "CLIPBOARD", "mute", p.latin1 }
for _ = 1, 50 do
  local v, why = robot.clipboard.get{ timeout = 0.2 }
  if why and why:find("did not answer", 1, true) then break end
  robot.sleep(0.1)
end
robot.step("Vent", { timeout = 1 }, function()
  robot.clipboard.get{ timeout = 60 }
end)
