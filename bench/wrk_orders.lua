-- wrk script: POST pre-signed orders from $ORDERS_FILE ("apikey body" per line), each thread
-- taking every $THREADS-th line from its own offset so no client order id is sent twice.
local threads_started = 0
all_threads = {}

function setup(thread)
  thread:set("thread_id", threads_started)
  threads_started = threads_started + 1
  table.insert(all_threads, thread)
end

function init(args)
  lines = {}
  for line in io.lines(os.getenv("ORDERS_FILE")) do
    lines[#lines + 1] = line
  end
  step = tonumber(os.getenv("THREADS"))
  index = thread_id + 1
end

function request()
  local line = lines[index]
  index = index + step
  if index > #lines then
    index = thread_id + 1
  end
  local space = line:find(" ")
  return wrk.format("POST", "/api/v3/order", {
    ["X-MBX-APIKEY"] = line:sub(1, space - 1),
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, line:sub(space + 1))
end

-- Answers other than 200, by status and Binance error code, printed by done() for the bench.
rejected = {}

function response(status, headers, body)
  if status ~= 200 then
    local code = body:match('"code":%s*(-?%d+)') or "?"
    local key = status .. " " .. code
    rejected[key] = (rejected[key] or 0) + 1
  end
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(all_threads) do
    for key, count in pairs(thread:get("rejected")) do
      totals[key] = (totals[key] or 0) + count
    end
  end
  for key, count in pairs(totals) do
    io.write(string.format("rejected %s %d\n", key, count))
  end
end
