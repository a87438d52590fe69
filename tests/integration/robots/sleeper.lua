local app = robot.app.start{ "xterm", "-title", robot.params.marker, "-e", "sleep", "600" }
app:wait_window{ class = "XTerm", timeout = 15 }
robot.log("READY")
robot.sleep(600)
