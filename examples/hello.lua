-- hello.lua: the smallest heph script. Checks that the Docker engine answers, then lists
-- the containers heph manages.
--
--   scripts/heph run examples/hello.lua
local heph = require("heph")

heph.ping()
print("heph " .. heph.VERSION .. ": the Docker engine answers")

local containers = heph.list_containers()
if #containers == 0 then
  print("no managed containers yet; try: scripts/heph run examples/webapp.lua")
end
for _, c in ipairs(containers) do
  print(string.format("%-28s %-10s %s", c.name, c.status, c.image))
end
