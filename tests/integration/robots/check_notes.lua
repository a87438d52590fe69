local w = robot.window.wait{ class = robot.params.class or "XTerm" }
w:click{ x = 1, y = 1 }
robot.step("navngivet", function()
  w:type(robot.params.text or "abc")
end)
