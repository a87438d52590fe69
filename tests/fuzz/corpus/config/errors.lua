state = "/tmp/s"
robot "a" { script = "a.lua", schedule = "61 * * * *", tz = "Mars/Olympus" }
robot "a" { script = 7 }
channel "x" { webhook = "ftp://x\r\nHost: y" }
bogus = 1
