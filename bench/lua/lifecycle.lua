-- P1: each thread (one connection each) suspends a client, then unsuspends it, then moves to its
-- next client; thread i takes clients i, i+T, i+2T, ... so no two connections touch one client.
-- args: <ids file> <token> <thread count>
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "summary.lua")
local threads_started = 0

function setup(thread)
   thread:set("index", threads_started)
   threads_started = threads_started + 1
end

function init(args)
   local all = read_lines(args[1])
   local step = tonumber(args[3])
   mine = {}
   for i = index + 1, #all, step do mine[#mine + 1] = all[i] end
   token = args[2]
   position = 0
   suspending = true
end

function request()
   local path
   if suspending then
      position = position % #mine + 1
      path = "/api/v1/accounts/" .. mine[position] .. "/suspend"
      body = '{"reason": "non_payment", "note": "bench"}'
   else
      path = "/api/v1/accounts/" .. mine[position] .. "/unsuspend"
      body = '{}'
   end
   suspending = not suspending
   return wrk.format("POST", path, {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
