local pw = robot.secret("sag-login")
robot.log("logging in with", pw)
error("login rejected for " .. pw)
