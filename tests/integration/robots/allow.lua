-- Under an allow-list: what the robot may start and read, and what it tries beyond it.
--   --set dir=FOLDER (holds in/ok.csv, in/escape.csv -> ../secret.csv, secret.csv, links)
local p, d = robot.params, robot.params.dir
local function done(app) while app:running() do robot.sleep(0.02) end end
local function try(what, f, ...)
  local ok, err = pcall(f, ...)
  robot.log(what .. ": " .. (ok and "accepted" or tostring(err)))
  return ok and err
end
local function count(source)
  local n = 0
  for _ in robot.items("t" .. source:gsub("%W", ""), source) do n = n + 1 end
  return n
end
-- allowed: the listed program, by name, by absolute path and through a link to it
done(robot.app.start{ "touch", d .. "/by-name" })
done(robot.app.start{ "/usr/bin/touch", d .. "/by-path" })
done(robot.app.start{ d .. "/link-to-touch", d .. "/by-link" })
-- refused: a shell, a link to a shell, loader and PATH variables
try("sh", robot.app.start, { "sh", "-c", "touch " .. d .. "/by-sh" })
try("shell link", robot.app.start, { d .. "/link-to-sh", "-c", "touch " .. d .. "/by-sh-link" })
try("LD_PRELOAD", robot.app.start, { "touch", d .. "/by-ld", env = { LD_PRELOAD = "x.so" } })
try("PATH", robot.app.start, { "touch", d .. "/by-path-env", env = { PATH = d } })
-- files: the listed folder, not beside it, not out of it through a link or ".."
robot.log("ok.csv items: " .. tostring(try("ok.csv", count, d .. "/in/ok.csv")))
try("secret.csv", count, d .. "/secret.csv")
try("escape.csv", count, d .. "/in/escape.csv")
try("dotdot", count, d .. "/in/../secret.csv")
