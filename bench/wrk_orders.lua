-- wrk script: POST pre-signed orders from $ORDERS_FILE ("apikey body" per line), each thread
-- taking every $THREADS-th line from its own offset so no client order id is sent twice.
local threads_started = 0

function setup(thread)
  thread:set("thread_id", threads_started)
  threads_started = threads_started + 1
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
