-- Step keys that keep their meaning: two citizens in one step; the second also gets a
-- note, so an action runs in one iteration and not in the other. params.named = "1" names
-- the conditional action (key = "note"); params.twice = "1" names two clicks alike (and loose, below).
local p = robot.params
local app = robot.app.start{ p.app, "--out", p.out, "-geometry", "+0+0" }
local w = app:wait_window{ class = "VagtDemo", timeout = 15 }
w:ignore{ x = 0, y = 374, w = 640, h = 26 }
local people = { { cpr = "010190-1234" }, { cpr = "241285-4321", note = "Ring tilbage" } }
for _, c in ipairs(people) do
  robot.step("Borger", function()
    if c.note then
      w:click{ x = 190, y = 207, key = p.named == "1" and "note" or nil }
      w:type(c.note, { key = p.named == "1" and "note" or nil })
    end
    w:click{ x = 190, y = 37, key = p.twice == "1" and "cpr" or nil }
    w:type(c.cpr)
    w:click{ x = 216, y = 261, key = p.twice == "1" and "cpr" or nil } -- Gem
  end)
end
if p.loose == "1" then -- two clicks in a loop outside any step
  for _, y in ipairs{ 37, 71 } do w:click{ x = 190, y = y } end
end
robot.sleep(0.3)
