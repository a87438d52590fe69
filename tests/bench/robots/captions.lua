-- Caption recall (tests/bench/captions.sh): every caption in --set caps (one a line) looked
-- for once with w:find_text on the window of class --set class, as a robot would. One log
-- line per caption: "CAP <n> found x y w h <text>", "CAP <n> none", "CAP <n> ambiguous
-- <why>", "CAP <n> unreadable <why>" (a character the models cannot produce) or
-- "CAP <n> error <why>".
local p = robot.params
local w = robot.window.wait{ class = p.class, timeout = 20 }
local n = 0
for cap in string.gmatch(p.caps, "[^\n]+") do
  n = n + 1
  local ok, r = pcall(w.find_text, w, cap)
  if ok and r then
    robot.log(string.format("CAP %d found %d %d %d %d %s", n, r.x, r.y, r.w, r.h, r.text))
  elseif ok then
    robot.log(string.format("CAP %d none", n))
  else
    local e = tostring(r):gsub("\n", " ")
    local kind = e:find("cannot produce", 1, true) and "unreadable"
      or e:find("ambiguous", 1, true) and "ambiguous" or "error"
    robot.log(string.format("CAP %d %s %s", n, kind, e))
  end
end
