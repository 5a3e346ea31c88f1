-- wrk: gateway_chat.lua's request, noting each answer's x-modelplane-overhead-ms header;
-- done() prints them on one line, "overhead_ms v1 v2 …" (empty for targets without it).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model": "mock-1", "messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 16}'

local threads = {}
overheads = {}

function setup(thread)
   table.insert(threads, thread)
end

function response(status, headers, body)
   local value = headers["x-modelplane-overhead-ms"] or headers["X-Modelplane-Overhead-Ms"]
   if value then
      overheads[#overheads + 1] = value
   end
end

function done(summary, latency, requests)
   local all = {}
   for _, thread in ipairs(threads) do
      for _, value in ipairs(thread:get("overheads")) do
         all[#all + 1] = value
      end
   end
   io.write("overhead_ms " .. table.concat(all, " ") .. "\n")
end
