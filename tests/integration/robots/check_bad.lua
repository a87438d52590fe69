local w = robot.window.wiat{ class = "XTerm" }
robot.clik()
