-- Three guarded steps, then a long wait: the test kills vagt with SIGKILL meanwhile.
local app = robot.app.start{ robot.params.app, "--out", robot.params.out, "-geometry", "+0+0" }
local w = app:wait_window{ class = "VagtDemo", timeout = 15 }
robot.step("Navn", function()
  w:click{ x = 180, y = 70 }
  w:click{ x = 180, y = 104 }
  w:click{ x = 180, y = 70 }
end)
robot.log("READY")
robot.sleep(120)
