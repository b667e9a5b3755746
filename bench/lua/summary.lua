-- Shared by every script (loaded with dofile): count answers by status, print a one-line JSON summary.
-- Each thread counts its own answers (`response`); `done` adds them up through the thread handles.
-- wrk's own counters tell the kinds of failure apart: `status` is an answer > 399 that came back,
-- `timeout` a request that got no answer within --timeout (cut by the load generator, not answered),
-- connect/read/write are socket errors.
local threads = {}
statuses = {}
samples = {}

function register(thread)
   threads[#threads + 1] = thread
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status > 299 and #samples < 3 then
      samples[#samples + 1] = tostring(status) .. " " .. string.sub(body or "", 1, 300)
   end
end

local function json_string(s)
   return '"' .. s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function done(summary, latency, requests)
   local e = summary.errors
   local counts, kept = {}, {}
   for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses")) do counts[status] = (counts[status] or 0) + count end
      for _, sample in ipairs(thread:get("samples")) do
         if #kept < 5 then kept[#kept + 1] = json_string(sample) end
      end
   end
   local parts = {}
   for status, count in pairs(counts) do parts[#parts + 1] = string.format('"%d": %d', status, count) end
   io.write(string.format(
      'BENCH {"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, "timeouts": %d, '
      .. '"p50_us": %d, "p99_us": %d, "statuses": {%s}, "samples": [%s]}\n',
      summary.requests, summary.duration, e.status, e.connect + e.read + e.write, e.timeout,
      latency:percentile(50), latency:percentile(99), table.concat(parts, ", "), table.concat(kept, ", ")))
end

function read_lines(path)
   local lines = {}
   for line in io.lines(path) do
      if line ~= "" then lines[#lines + 1] = line end
   end
   return lines
end
