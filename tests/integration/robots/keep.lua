-- An app kept after the run, and one whose children must end with the run.
robot.app.start{ "sh", "-c", "exec sleep 301 # " .. robot.params.marker .. "-kept", keep = true }
robot.app.start{ "sh", "-c", "sleep 302 & sleep 303; # " .. robot.params.marker .. "-gone" }
robot.sleep(0.5)
