-- GET one of a list of paths in turn (random start per thread), with an optional bearer token.
-- args: <paths file> [token]
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "summary.lua")
local threads_started = 0

function setup(thread)
   thread:set("index", threads_started)
   threads_started = threads_started + 1
   register(thread)
end

function init(args)
   paths = read_lines(args[1])
   headers = {}
   if args[2] then headers["Authorization"] = "Bearer " .. args[2] end
   position = (index * 7919) % #paths
end

function request()
   position = position % #paths + 1
   return wrk.format("GET", paths[position], headers)
end
