robot.log("about to break out")
local f = io.open("/etc/passwd")
robot.log("escaped the sandbox", f)
