state = "/tmp/s"
robot "a" { script = "a.lua" }
