-- wrk script of benches/run_room_memory.sh: cookie-less requests (wrk keeps
-- no cookies, so every request is a newcomer who gets a ticket); the thread
-- stops after $TG_REQUESTS responses (a few more may be in flight).
local target = tonumber(os.getenv("TG_REQUESTS") or "1000")
local seen = 0

function response(status, headers, body)
  seen = seen + 1
  if seen >= target then
    wrk.thread:stop()
  end
end
