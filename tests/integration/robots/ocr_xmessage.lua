-- A real application nobody here wrote: xmessage prints the label of the button pressed.
-- Two buttons read "Ja": a click on "Ja" alone is ambiguous and must fail naming both;
-- nth picks one.
local app = robot.app.start{ "xmessage", "-print", "-geometry", "+20+20",
  "-buttons", "Ja,Afvis,Godkend,Ja", "Vil du godkende sagen om Søren Ærø?" }
local w = app:wait_window{ class = "Xmessage", timeout = 15 }
local ok, err = pcall(w.click, w, { text = "Ja" })
assert(not ok, "an ambiguous click was performed")
robot.log("ambiguous:", err)
assert(tostring(err):find("Ja"), err)
local q = w:find_text("godkende sagen")
assert(q, "phrase across words not found")
robot.step("Svar", function()
  w:click{ text = robot.params.button or "Godkend" }
end)
for _ = 1, 30 do
  if not app:running() then break end
  robot.sleep(0.1)
end
