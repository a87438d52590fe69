-- robot.log in a loop: 20 MB asked for; the run keeps a few MB and says so once.
local s = string.rep("x", 1024)
for i = 1, 20000 do robot.log(i, s) end
print("still running after the log filled up")
