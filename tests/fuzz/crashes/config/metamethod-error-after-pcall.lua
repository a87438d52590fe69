state = "/tmp/s"
local t = setmetatable({}, { __index = function() retern "x" end })
robot "a" (t)
