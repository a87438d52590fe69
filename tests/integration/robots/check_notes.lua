local w = robot.window.wait{ class = "XTerm" }
w:click{ x = 1, y = 1 }
robot.step("navngivet", function()
  w:type("abc")
end)
