-- A backtracking pattern: hours inside the C pattern matcher, where no hook fires.
robot.app.start{ "xcalc", "-name", robot.params.marker }
robot.log("READY")
string.find(string.rep("a", 40), string.rep("a*", 40) .. "b")
robot.log("the pattern returned")
