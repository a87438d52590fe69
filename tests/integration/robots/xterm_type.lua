-- Types Danish text into xterm (a real application); the shell inside writes what arrived.
local text = robot.params.text
local app = robot.app.start{ "xterm", "-u8", "-geometry", "80x10+40+40", "-e", "sh", "-c",
  "IFS= read -r line; printf '%s\\n' \"$line\" > " .. robot.params.out }
local w = app:wait_window{ class = "XTerm", timeout = 15 }
robot.step("skriv", function()
  w:type(text)
  w:key("Return")
end)
-- Wait for the shell to write the line and exit.
local t = os.clock()
for _ = 1, 100 do
  if not app:running() then break end
  robot.sleep(0.1)
end
