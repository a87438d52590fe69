state = "/tmp/s"
local t = setmetatable({}, { __index = function() return "x" end })
robot "a" (t)
