local app = robot.app.start{ robot.params.app, "--variant", robot.params.variant,
  "--out", robot.params.out, "-geometry", "+0+0" }
local w = app:wait_window{ class = "VagtDemo", timeout = 15 }
w:activate()
robot.step("Registrer borger", function()
  w:click{ x = 190, y = 37 } w:type("010190-1234")
  w:click{ x = 190, y = 71 } w:type("Søren Ærø")
  w:click{ x = 222, y = 261 }
end)
robot.sleep(0.3)
