-- Shared by the scenario scripts of bench/http.sh (wrk 4, one Lua state per wrk thread).
--
-- A scenario script sets `scenario = { method, path, body, headers, expect, ids }` and then
-- loads this file. Script arguments (after `--` on the wrk command line) are key=value pairs:
--   ids=FILE        one assessment id per line; every request takes the next unused id
--                   (thread t of n takes ids t, t+n, t+2n, …), so no id is ever sent twice
--   threads=N       the -t given to wrk (to split the ids)
--   token=T         API bearer token         cookie=C  session cookie value
--   csrf=T          CSRF token of the session (form field `csrf`)
--   id=N            the id for a fixed-path scenario (result page)
--   body=FILE       request body from a file
--
-- Every response's status is counted; anything but `scenario.expect` is an error, including a
-- 3xx where a 200 is expected (wrk itself counts only statuses > 399 as errors). When a thread
-- has used all its ids it sends requests to /__ids_exhausted__ (a 404, so they are errors too)
-- and `exhausted` in the summary says how many: the seed was too small for the run.
-- done() prints one line `BENCH {json}` that bench/http.sh turns into the table.

-- Globals of a thread's state are what the main state reads with thread:get in done().
counts = {}      -- status -> count (this thread)
exhausted = 0
sent = 0
thread_no = 0    -- set by setup() through thread:set before init() runs
local ids = nil
local next_index = 1
local stride = 1
local fixed_request = nil
local args = {}

local threads = {}   -- main state only

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_no", #threads)
end

local function read_file(path)
  local f = assert(io.open(path, "rb"), "cannot open " .. path)
  local s = f:read("*a")
  f:close()
  return s
end

function init(argv)
  for _, a in ipairs(argv) do
    local k, v = a:match("^([%w_]+)=(.*)$")
    if k then args[k] = v end
  end
  local s = scenario
  if s.ids then
    assert(args.ids, "this scenario needs ids=FILE")
    local all = {}
    for line in io.lines(args.ids) do
      local n = tonumber(line)
      if n then table.insert(all, n) end
    end
    local n = tonumber(args.threads or "1")
    local t = thread_no
    ids = {}
    for i = t, #all, n do table.insert(ids, all[i]) end
  end
  s.headers = s.headers or {}
  if args.token then s.headers["Authorization"] = "Bearer " .. args.token end
  if args.cookie then s.headers["Cookie"] = "smedx_session=" .. args.cookie end
  if args.body then s.body = read_file(args.body) end
  if s.body and args.csrf then s.body = s.body:gsub("{csrf}", args.csrf) end
  if not s.ids then
    local path = s.path:gsub("{id}", args.id or "")
    fixed_request = wrk.format(s.method, path, s.headers, s.body)
  end
end

function request()
  if fixed_request then
    sent = sent + 1
    return fixed_request
  end
  local id = ids[next_index]
  if id == nil then
    exhausted = exhausted + 1
    return wrk.format("GET", "/__ids_exhausted__", scenario.headers)
  end
  next_index = next_index + 1
  sent = sent + 1
  local path = scenario.path:gsub("{id}", tostring(id))
  return wrk.format(scenario.method, path, scenario.headers, scenario.body)
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  local ex, used = 0, 0
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("counts") or {}) do
      k = tostring(k)
      total[k] = (total[k] or 0) + v
    end
    ex = ex + (t:get("exhausted") or 0)
    used = used + (t:get("sent") or 0)
  end
  local expect = tostring(scenario.expect)
  local unexpected = 0
  local parts = {}
  for k, v in pairs(total) do
    if k ~= expect then unexpected = unexpected + v end
    table.insert(parts, string.format('"%s":%d', k, v))
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  print(string.format(
    'BENCH {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"connect":%d,"read":%d,"write":%d,"timeout":%d,"wrk_status_errors":%d,"unexpected":%d,' ..
    '"expect":%s,"statuses":{%s},"exhausted":%d,"sent":%d}',
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, e.status, unexpected,
    expect, table.concat(parts, ","), ex, used))
end
