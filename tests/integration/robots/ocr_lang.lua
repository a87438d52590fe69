robot.ocr.lang = "xyz"
local app = robot.app.start{ "xmessage", "-geometry", "+20+20", "Hej" }
local w = app:wait_window{ class = "Xmessage", timeout = 15 }
w:find_text("Hej")
