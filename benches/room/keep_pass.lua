-- wrk script of benches/run_room_admitted.sh: sends the cookie given in
-- $TG_COOKIE and, like a browser, keeps the renewed pass when a response
-- sets one (the room renews a pass once per 10-s session bucket). Used for
-- both targets, so the Lua cost is the same on each side.
wrk.headers["Cookie"] = os.getenv("TG_COOKIE") or ""
local req = nil

function request()
  if req == nil then
    req = wrk.format()
  end
  return req
end

function response(status, headers, body)
  local set = headers["Set-Cookie"] or headers["set-cookie"]
  if set ~= nil then
    local pair = set:match("^(tg_pass_[%w_-]+=[^;]*)")
    if pair ~= nil and pair ~= wrk.headers["Cookie"] then
      wrk.headers["Cookie"] = pair
      req = nil
    end
  end
end
