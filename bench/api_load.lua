-- Load generator for bench/api.py (wrk, one connection per thread, keep-alive):
-- a mix of match-checks and registrations with per-call latencies, statuses and
-- decisions. Run as
--   WRK_BODIES=bodies.jsonl WRK_OUT=out.json WRK_SHARE=0.2 WRK_KEY=... \
--     wrk -t8 -c8 -d300s -s bench/api_load.lua http://127.0.0.1:8850
-- bodies.jsonl: one line per applicant, "<match-check body>\t<registration body>".
-- With one connection per thread, each thread's request() and response() alternate,
-- so the time between them is that request's latency (CLOCK_MONOTONIC via the FFI).
-- WRK_RATE > 0 paces the load (open loop): each connection sends at a fixed rate
-- (WRK_RATE / threads per second) on a schedule that starts at its first request
-- (the connections staggered over one period), and a request's latency counts from
-- the time it was due, so a server falling behind shows as latency (no coordinated
-- omission, as in wrk2). WRK_RATE = 0: each connection sends as soon as it has its
-- answer (closed loop: the server's capacity).
-- Each applicant is registered at most once: thread i holds rows i, i+n, ... and
-- match-checks and registers only those.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } ecif_timespec;
int clock_gettime(int clk_id, ecif_timespec *tp);
]]
local ts = ffi.new("ecif_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = {}
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end

function init(args)
  local n = tonumber(os.getenv("WRK_THREADS") or "1")
  nthreads_all = n
  share = tonumber(os.getenv("WRK_SHARE") or "0")
  key = os.getenv("WRK_KEY")
  checks, regs = {}, {}
  local i = 0
  -- each thread keeps its own share of the applicants (wrk sets the threads up one
  -- after another, and their connections start as soon as each is set up)
  for line in io.lines(os.getenv("WRK_BODIES")) do
    if i % n == tid - 1 then
      local m, r = line:match("^(.-)\t(.*)$")
      table.insert(checks, m)
      table.insert(regs, r)
    end
    i = i + 1
  end
  math.randomseed(tid * 7919)
  rate = tonumber(os.getenv("WRK_RATE") or "0")
  if rate > 0 then
    period = n * 1000 / rate
  end
  due = nil  -- set by the first request: reading the bodies above takes each thread a while
  next_reg = 1
  short = 0
  lat_match, lat_register = {}, {}
  statuses, decisions = {}, {}
  headers = {["Content-Type"] = "application/json", ["X-API-Key"] = key}
end

function delay()
  if rate > 0 and due ~= nil then
    return math.max(0, math.floor(due - now_ms()))
  end
  return 0
end

function request()
  local wants = share > 0 and math.random() < share
  if wants and next_reg > #regs then
    short = short + 1  -- a registration due, but this thread's applicants are used up
  end
  if wants and next_reg <= #regs then
    kind = "register"
    body = regs[next_reg]
    next_reg = next_reg + 1
    path = "/api/v1/customers"
  else
    kind = "match"
    body = checks[math.random(#checks)]
    path = "/api/v1/match-check"
  end
  if rate > 0 and due == nil then
    -- the connection's first request goes at once; its schedule starts there,
    -- staggered over one period so that the connections do not send together
    started = now_ms()
    due = started + period + period * (tid - 1) / nthreads_all
  elseif rate > 0 then
    started = due  -- from when it was due, even if sent late
    due = due + period
  else
    started = now_ms()
  end
  return wrk.format("POST", path, headers, body)
end

function response(status, hdrs, body)
  local ms = now_ms() - started
  if kind == "register" then
    lat_register[#lat_register + 1] = ms
  else
    lat_match[#lat_match + 1] = ms
  end
  local s = kind .. " " .. status
  statuses[s] = (statuses[s] or 0) + 1
  local d = body:match('"decision":%s*"(%a+)"')
  if d then
    local k = kind .. " " .. d
    decisions[k] = (decisions[k] or 0) + 1
  end
end

local function merge_counts(into, from)
  for k, v in pairs(from) do into[k] = (into[k] or 0) + v end
end

function done(summary, latency, requests)
  local all = {match = {}, register = {}}
  local st, de = {}, {}
  for _, t in ipairs(threads) do
    for _, v in ipairs(t:get("lat_match")) do table.insert(all.match, v) end
    for _, v in ipairs(t:get("lat_register")) do table.insert(all.register, v) end
    merge_counts(st, t:get("statuses"))
    merge_counts(de, t:get("decisions"))
    short_all = (short_all or 0) + t:get("short")
  end
  local out = io.open(os.getenv("WRK_OUT"), "w")
  out:write('{"seconds": ', summary.duration / 1e6, ', "requests": ', summary.requests,
            ', "registrations_short": ', short_all or 0,
            ', "socket_errors": ', summary.errors.connect + summary.errors.read
              + summary.errors.write + summary.errors.timeout,
            ', "non_2xx_3xx": ', summary.errors.status, ', "latency_ms": {')
  local first = true
  for kind, values in pairs(all) do
    if not first then out:write(", ") end
    first = false
    out:write('"', kind, '": [', table.concat(values, ","), "]")
  end
  out:write('}, "statuses": {')
  first = true
  for k, v in pairs(st) do
    if not first then out:write(", ") end
    first = false
    out:write('"', k, '": ', v)
  end
  out:write('}, "decisions": {')
  first = true
  for k, v in pairs(de) do
    if not first then out:write(", ") end
    first = false
    out:write('"', k, '": ', v)
  end
  out:write("}}\n")
  out:close()
end
