-- robot.clipboard against real applications (tests/integration/clipboard.sh): owners that
-- offer Latin-1 STRING or COMPOUND_TEXT only (vagt-clip-owner) or never answer, a Tk form
-- (copy with the robot's own keys, paste what the robot set, large texts by INCR both
-- ways) and xterm (PRIMARY: a double-click selects, Shift+Insert pastes). Comparisons are
-- made here and logged as "exact" or "differs": the texts themselves never go to the log.
local p = robot.params
local TYPED = "Åse Ødegård 241285-4321 æøå"
local PASTE = "Søren Ærø 010190-1234"
local LATIN1 = "Åse Ødegård, Søren Ærø: æøå ÆØÅ é ü ß ½ ©"
local CTEXT = "Åse Ødegård, Łódź, Ωμέγα €"
local XLINE = "Åse-Ødegård-241285-4321"
local BIG = string.rep("æøå ÆØÅ 0123456789 abc\n", 50000) -- the Tk form builds the same

-- On a difference, where: lengths in characters and the first differing character's
-- position (the test's own texts, still never quoted).
local function where(got, want)
  if not got then return "nil" end
  local g, w = {}, {}
  for _, c in utf8.codes(got) do g[#g + 1] = c end
  for _, c in utf8.codes(want) do w[#w + 1] = c end
  local i = 1
  while i <= #g and i <= #w and g[i] == w[i] do i = i + 1 end
  return #got .. " bytes, " .. #g .. " of " .. #w .. " characters, first difference at " .. i
end

local function check(what, got, want)
  local ok, at = pcall(where, got, want)
  robot.log(what .. ": " .. (got == want and "exact" or ("differs (" .. (ok and at or #got .. " bytes, not UTF-8") .. ")")))
end

-- Waits until the selection holds something other than `before` (or anything).
local function wait_change(sel, before)
  for _ = 1, 100 do
    local v = robot.clipboard.get(sel, { timeout = 0.5 })
    if v and v ~= before then return v end
    robot.sleep(0.1)
  end
end

local v, why = robot.clipboard.get()
robot.log("nobody: " .. tostring(v) .. ", " .. tostring(why))

-- Old owners: Latin-1 STRING only, COMPOUND_TEXT only.
robot.app.start{ p.owner, "CLIPBOARD", "STRING", p.latin1 }
robot.app.start{ p.owner, "PRIMARY", "COMPOUND_TEXT", p.ctext }
check("latin1 STRING", wait_change("CLIPBOARD"), LATIN1)
check("COMPOUND_TEXT", wait_change("PRIMARY"), CTEXT)

-- An owner that never answers: nil and a reason at the timeout, never a hang.
robot.app.start{ p.owner, "CLIPBOARD", "mute", p.latin1 }
for _ = 1, 50 do
  v, why = robot.clipboard.get{ timeout = 0.3 }
  if not v then break end
  robot.sleep(0.1)
end
robot.log("mute: " .. tostring(v) .. ", " .. tostring(why))

-- Tk: the robot types, selects all (ctrl+/) and copies (ctrl+c) with its own keys.
local app = robot.app.start{ "wish", p.tcl, p.out }
local w = app:wait_window{ class = "Clipapp", timeout = 10 }
robot.step("Kopier", function()
  w:type(TYPED)
  w:key("ctrl+slash")
  w:key("ctrl+c")
end)
check("tk copy", robot.clipboard.get(), TYPED)
check("tk primary", robot.clipboard.get("PRIMARY"), TYPED)

-- The robot sets, Tk pastes (ctrl+v) and saves on Return; F6 reads it as STRING.
robot.clipboard.set(PASTE)
robot.step("Indsaet", function()
  w:key("ctrl+slash")
  w:key("Delete")
  w:key("ctrl+v")
  w:key("Return")
  w:wait_title("^Gemt 1$", { timeout = 10 })
  w:key("F6")
  w:wait_title("^Gemt 2$", { timeout = 10 })
end)

-- 1.4 MB each way: Tk reads ours (INCR) 0.3 s after F5, while the robot sleeps;
-- then Tk copies the same text and the robot reads it (INCR from Tk).
robot.clipboard.set(BIG)
robot.step("Stor", function()
  w:key("F5")
  robot.sleep(1.5)
  w:wait_title("^Gemt 3$", { timeout = 20 })
  w:key("F9") -- the same as UTF8_STRING (F5 asked for STRING)
  w:wait_title("^Gemt 4$", { timeout = 20 })
  w:key("F7")
  w:wait_title("^Gemt 5$", { timeout = 20 })
end)
check("tk big copy", robot.clipboard.get{ timeout = 10 }, BIG)

-- More than 16 MiB: a clear error, no text.
robot.step("For stor", function()
  w:key("F8")
  w:wait_title("^Gemt 6$", { timeout = 30 })
end)
local ok, err = pcall(robot.clipboard.get, { timeout = 10 })
robot.log("too big: " .. (ok and "returned" or tostring(err)))

-- xterm (Xt): a double-click selects the line (PRIMARY); Shift+Insert pastes ours.
local xt = robot.app.start{ "xterm", "-u8", "-cc", "45:48", "-geometry", "60x5+0+300",
  "-e", "sh", p.xsh }
local x = xt:wait_window{ class = "XTerm", timeout = 15 }
robot.sleep(0.5)
robot.step("xterm", function()
  x:click{ x = 40, y = 9, double = true }
  check("xterm primary", wait_change("PRIMARY", TYPED), XLINE)
  robot.clipboard.set(PASTE, "PRIMARY")
  x:key("shift+Insert")
  x:key("Return")
end)
for _ = 1, 100 do
  if not xt:running() then break end
  robot.sleep(0.1)
end
robot.log("xterm ended: " .. tostring(not xt:running()))
