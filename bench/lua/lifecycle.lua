-- P1: each thread (one connection each) suspends a client, then unsuspends it, then moves to its
-- next client; thread i takes clients i, i+T, i+2T, ... so no two connections touch one client.
-- args: <ids file> <token> <thread count>
--
-- `request` only reads the state and `response` moves it on: wrk calls `request` once more than it
-- sends (thread 0's first call only checks that the script makes a valid request), so a script that
-- advanced on each `request` sent that thread's first unsuspend for a client it never suspended
-- (409 not-suspended: the one unexplained non-2xx of earlier runs).
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "summary.lua")
local threads_started = 0

function setup(thread)
   thread:set("index", threads_started)
   threads_started = threads_started + 1
   register(thread)
end

function init(args)
   local all = read_lines(args[1])
   local step = tonumber(args[3])
   mine = {}
   for i = index + 1, #all, step do mine[#mine + 1] = all[i] end
   headers = {["Authorization"] = "Bearer " .. args[2], ["Content-Type"] = "application/json"}
   position = 1
   suspending = true
end

function request()
   if suspending then
      return wrk.format("POST", "/api/v1/accounts/" .. mine[position] .. "/suspend", headers,
         '{"reason": "non_payment", "note": "bench"}')
   end
   return wrk.format("POST", "/api/v1/accounts/" .. mine[position] .. "/unsuspend", headers, '{}')
end

local count_answer = response
function response(status, response_headers, body)
   count_answer(status, response_headers, body)
   if not suspending then position = position % #mine + 1 end
   suspending = not suspending
end
