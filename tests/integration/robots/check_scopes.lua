-- vagt check's view of where actions run (the line numbers are asserted by check.sh).
local w = robot.window.wait{ class = "XTerm" }
local function fill(text)
  w:type(text)                                   -- 4: only ever called inside steps
end
local function save()
  w:key("ctrl+s")                                -- 7: called outside a step at line 21
end
local function later()
  w:click{ x = 1, y = 1 }                        -- 10: passed as a value: cannot tell
end
robot.step("Udfyld", function()
  fill("abc")
  if robot.params.brev then
    w:click{ text = "Ønsker brev" }             -- 15: conditional, unnamed: noted
  end
  if robot.params.kopi then w:click{ text = "Kopi", key = "kopi" } end  -- 17: named
  w:click{ text = "Gem" }
  save()
end)
save()
pcall(later)
for i = 1, 3 do
  w:click{ x = 10 * i, y = 5 }                   -- 24: a loop outside any step
end
robot.step("Enkel", function()
  if robot.params.x then w:click{ x = 1, y = 1 } end  -- 27: the step's only action: fine
end)
robot.step("Valg", function()
  if robot.params.a then w:click{ text = "A" }   -- 30: the same key as line 31's
  else w:click{ text = "B" } end                 -- 31
  if robot.params.b then w:key("a") else w:type("b") end  -- 32: other kinds: fine
end)
