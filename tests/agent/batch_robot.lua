-- The agent's batch test robot: registers the citizens of a CSV file in the demo app, one
-- robot.items item per citizen, so a run killed halfway resumes where it stopped.
local fields = {
  { "cpr", 190, 37 }, { "navn", 190, 71 }, { "adresse", 190, 105 },
  { "postnr", 190, 139 }, { "by", 190, 173 }, { "note", 190, 207 },
}
local GEM = { x = 222, y = 261 }
local ANNULLER = { x = 326, y = 261 }

local app = robot.app.start{ robot.params.app, "--out", robot.params.out, "-geometry", "+0+0" }
local w = app:wait_window{ class = "VagtDemo", timeout = 15 }
w:activate()
robot.step("Ryd formular", function() w:click(ANNULLER) end)

-- retry = "1": a person checked the failed items and asks for them to be entered again
local opts = { key = "cpr", retry_failed = robot.params.retry == "1" }
-- pause_before_nth / pause_after_nth: the fleet test's window to kill a node holding its
-- n-th item before its input / after it was saved (tests/fleet/batch.sh)
local nth = 0
for item in robot.items(robot.params.batch_name, robot.params.batch, opts) do
  nth = nth + 1
  if tonumber(robot.params.pause_before_nth) == nth then
    robot.log("holding item " .. nth .. " before its input")
    robot.sleep(tonumber(robot.params.pause) or 0)
  end
  robot.step("Registrer borger", function()
    for _, f in ipairs(fields) do
      w:click{ x = f[2], y = f[3] }
      w:type(item[f[1]])
    end
    w:click(GEM)
  end)
  robot.log("gemt: " .. item.cpr)
  -- the window in which the test kills the run (agent/batch.sh): after that item only
  if item.cpr == robot.params.pause_after then robot.sleep(tonumber(robot.params.pause) or 0) end
  if tonumber(robot.params.pause_after_nth) == nth then
    robot.log("holding item " .. nth .. " after its input")
    robot.sleep(tonumber(robot.params.pause) or 0)
  end
end
robot.sleep(0.5)
