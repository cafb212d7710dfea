// The Lua scripts of RedisRoomStore (queue/redis_room_store.h): one atomic
// script per RoomStore method, each running exactly the arithmetic of
// queue/room_logic.cc (the unit test redis_room_store_test.cc runs the same
// calls through LocalRoomStore and RedisRoomStore and compares the results).
//
// Keys (all under one hash tag, so a Redis Cluster keeps a room on one slot):
//   KEYS[1] <room>:s            hash: tickets serving admitted credit last_tick ratio
//                               carried (the bucket a restore counted the
//                               caller's active sessions in; absent: none)
//   KEYS[2] <room>:sessions     hash: bucket -> sessions last counted there
//   KEYS[3] <room>:admissions   hash: bucket -> admissions
//   KEYS[4] <room>:claims       hash: bucket invited in -> admissions of queued visitors
//   KEYS[5] <room>:invitations  hash: bucket -> serving advances
//   KEYS[6] <room>:marks        hash: mark name -> tickets when first marked;
//                               kept values (RoomStore::Keep)
//   KEYS[7] <room>:cohorts      hash: bucket -> first queue number invited in it
//   KEYS[8] <room>:claimed      string bitmap: bit n % kClaimWindow set = number n claimed
//   KEYS[9] <room>:ended        sorted set: ended session id -> until ms
//   KEYS[10] <room>:renewed     sorted set: renewed session id -> the bucket it
//                               is counted in now (RenewedSessions)
//   KEYS[11] <room>:claimed_by  sorted set: "<issuer>:<number>" -> number, the
//                               claimed tickets issued by an instance's local
//                               fallback (IssuedClaims; pruned by the claim
//                               script below serving - kClaimWindow)
// Bucket hashes are pruned by every Tick (sessions to session_duration, the
// others to 12 buckets, the cohorts to the invitation window when longer,
// their newest kept), the ended set by expiry (and capped), the renewed
// set to session_duration (and capped), the bitmap
// is at most kClaimWindow bits (queue/room_integrity.h): O(1) memory per
// room whatever the queue length.
//
// ARGV: 1 now_ms (0 = use Redis TIME, the shared clock), 2 queueing (1/0:
// mode != off and method fifo/random), 3 random (1/0), 4 total_active_users,
// 5 new_users_per_minute, 6 session_ms, 7 refresh_ms, 8..12 what the caller
// has seen of the room (RoomFloors, redis_room_store.h): 8 tickets, 9 serving,
// 10 admitted_total, 11 active (0: none recent enough), 12 the name of one
// mark or kept value it knows ("" = none; another one each call, so all of
// them are probed in turn); 13.. the method's arguments.
// Floors: a Redis that lost writes (restarted without persistence,
// FLUSHALL, a failover to a replica behind the primary) holds lower
// counters than an instance has seen. Every script first raises tickets,
// serving and admitted to the caller's floors and, when it had to, tops the
// active count up to the caller's in the current bucket (remembered as
// `carried`: a pass counted before the loss renews or ends there, as in
// FailoverRoomStore::CarriedBucket). In the normal case the stored values
// are equal or higher and nothing is written.
// Reply: an array of strings {a, b, tickets, serving, active, admitted_total,
// admitted_per_minute, claim_ratio, now_ms, restored}; a and b are the
// method's result; restored: +1 when this call raised the counters, +2 when
// the marks hash lacks the probed name (the caller then proposes every
// value it knows again: kRestoreMarks).
// Doubles are written with %.17g, so they round-trip exactly.
#pragma once

#include <string_view>

namespace tidegate::queue::scripts {

inline constexpr std::string_view kPrelude = R"lua(
local now = tonumber(ARGV[1])
if now <= 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local queueing = ARGV[2] == '1'
local random = ARGV[3] == '1'
local total = tonumber(ARGV[4])
local npm = tonumber(ARGV[5])
local session_ms = tonumber(ARGV[6])
local refresh_ms = tonumber(ARGV[7])
local BUCKET = 10000
local CLAIM_WINDOW = 1048576  -- kClaimWindow
local MAX_ENDED = 200000      -- kMaxEndedSessions
local MAX_RENEWED = 200000    -- kMaxRenewedSessions
local cur = math.floor(now / BUCKET)
local sb = math.max(1, math.floor((session_ms + BUCKET - 1) / BUCKET))
local function fmt(x) return string.format('%.17g', x) end

local s = redis.call('HMGET', KEYS[1], 'tickets', 'serving', 'admitted', 'credit',
                     'last_tick', 'ratio', 'carried')
local tickets = tonumber(s[1]) or 0
local serving = tonumber(s[2]) or 0
local admitted = tonumber(s[3]) or 0
local credit = tonumber(s[4]) or 0
local last_tick = tonumber(s[5]) or 0
local ratio = tonumber(s[6]) or 1
local carried = tonumber(s[7]) or -1
local restored = 0

local cache = {}
local function H(i)
  if not cache[i] then
    local t = {}
    local a = redis.call('HGETALL', KEYS[i])
    for j = 1, #a, 2 do t[tonumber(a[j])] = tonumber(a[j + 1]) end
    cache[i] = t
  end
  return cache[i]
end
local function get(i, b) return H(i)[b] or 0 end
local function add(i, b, d)
  local t = H(i)
  local v = redis.call('HINCRBY', KEYS[i], b, d)
  if v == 0 then redis.call('HDEL', KEYS[i], b); t[b] = nil else t[b] = v end
end
local function sum(i, first, last)
  local n = 0
  for b, v in pairs(H(i)) do
    if b >= first and b <= last then n = n + v end
  end
  return n
end
local function prune(i, first)
  local t = H(i)
  local gone = {}
  for b, _ in pairs(t) do
    if b < first then gone[#gone + 1] = b end
  end
  for _, b in ipairs(gone) do
    redis.call('HDEL', KEYS[i], b)
    t[b] = nil
  end
end

local rate = npm / 60000.0
local burst = math.max(1.0, rate * 5000)
local function refill()
  if last_tick == 0 then
    credit = burst
    last_tick = now
    return
  end
  local elapsed = now - last_tick
  if elapsed < 0 then elapsed = 0 end
  if elapsed > 60000 then elapsed = 60000 end
  last_tick = math.max(last_tick, now)
  credit = math.min(burst, credit + rate * elapsed)
end
local function active() return math.max(0, sum(2, cur - sb + 1, cur)) end
-- PendingCohortsFrom and Outstanding in room_logic.cc.
local function outstanding()
  local since = now - math.max(0, refresh_ms)
  local first = -1
  if since >= 0 then first = math.floor(since / BUCKET) end
  if first > cur then first = cur end
  local invited = sum(5, first, cur) * ratio
  local claimed = sum(4, first, cur)
  return math.max(0.0, invited - claimed)
end
-- InviteCeiling in room_logic.cc.
local function invite_ceiling()
  if random then return math.floor((tickets + 63) / 64) * 64 end
  return tickets
end
local function has_space()
  return active() + outstanding() + 1.0 <= total + 1e-9
end
-- The bucket number n was invited in (-1: older than the buckets kept);
-- the same scan as CohortOf in room_logic.cc.
local function cohort_of(n)
  local cohort = -1
  for b, first in pairs(H(7)) do
    if first <= n and b > cohort then cohort = b end
  end
  return cohort
end
-- InvitedNoLaterThan in room_logic.cc: the same scan.
local function invited_no_later_than(n)
  local cohort, above = -1, -1
  for b, first in pairs(H(7)) do
    if first <= n then
      if b > cohort then cohort = b end
    elseif above < 0 or b < above then
      above = b
    end
  end
  if cohort >= 0 then return cohort end
  return above
end
-- NextTicket in room_logic.cc: the ticket after `tickets`, skipping in a
-- random room the tickets of the caller's last block (order_block, order:
-- one character per number, '0' + the ticket's offset) whose number
-- `serving` already passed.
local function next_ticket(order_block, order)
  local nxt = tickets + 1
  local first = order_block * 64
  if random and order_block >= 0 and #order == 64 and nxt > first and nxt <= first + 64 and
     serving > first then
    local number_of = {}
    for i = 1, 64 do number_of[string.byte(order, i) - 48] = first + i end
    while nxt <= first + 64 and (number_of[nxt - first - 1] or math.huge) <= serving do
      nxt = nxt + 1
    end
  end
  return nxt
end
local function count_admission(cohort)
  add(2, cur, 1)
  add(3, cur, 1)
  if cohort >= 0 then add(4, cohort, 1) end
  admitted = admitted + 1
end
-- ClaimedNumbers::ClearRange: clears the slots of numbers first..last.
local function clear_bits(a, b)
  local len = redis.call('STRLEN', KEYS[8]) * 8
  if a >= len then return end
  if b >= len then b = len - 1 end
  while a <= b and a % 8 ~= 0 do redis.call('SETBIT', KEYS[8], a, 0); a = a + 1 end
  while b >= a and (b + 1) % 8 ~= 0 do redis.call('SETBIT', KEYS[8], b, 0); b = b - 1 end
  if a <= b then
    redis.call('SETRANGE', KEYS[8], a / 8, string.rep('\0', (b - a + 1) / 8))
  end
end
local function clear_claims(first, last)
  if last < first then return end
  if last - first + 1 >= CLAIM_WINDOW then redis.call('DEL', KEYS[8]) return end
  local slot = first % CLAIM_WINDOW
  local left = last - first + 1
  while left > 0 do
    local span = math.min(left, CLAIM_WINDOW - slot)
    clear_bits(slot, slot + span - 1)
    left = left - span
    slot = 0
  end
end
local function save()
  redis.call('HSET', KEYS[1], 'tickets', fmt(tickets), 'serving', fmt(serving),
             'admitted', fmt(admitted), 'credit', fmt(credit), 'last_tick', fmt(last_tick),
             'ratio', fmt(ratio))
end
local function reply(a, b)
  return {fmt(a), fmt(b), fmt(tickets), fmt(serving), fmt(active()), fmt(admitted),
          fmt(sum(3, cur - 6, cur - 1)), fmt(ratio), fmt(now), fmt(restored)}
end
-- The bucket a pass counted in `b` is counted in now: a pass from before a
-- restore was carried into `carried` (its own bucket holds nothing).
local function carried_bucket(b)
  if carried >= 0 and b < carried and get(2, b) <= 0 and get(2, carried) > 0 then
    return carried
  end
  return b
end

-- The floors (see the header): only a Redis that lost writes is changed.
do
  local f_tickets = tonumber(ARGV[8]) or 0
  local f_serving = tonumber(ARGV[9]) or 0
  local f_admitted = tonumber(ARGV[10]) or 0
  local f_active = tonumber(ARGV[11]) or 0
  local probe = ARGV[12] or ''
  if f_tickets > tickets or f_serving > serving or f_admitted > admitted then
    restored = 1
    tickets = math.max(tickets, f_tickets)
    serving = math.max(serving, f_serving)
    admitted = math.max(admitted, f_admitted)
    redis.call('HSET', KEYS[1], 'tickets', fmt(tickets), 'serving', fmt(serving),
               'admitted', fmt(admitted))
    local missing = f_active - active()
    if missing > 0 then
      add(2, cur, missing)
      carried = cur
      redis.call('HSET', KEYS[1], 'carried', fmt(carried))
    end
  end
  if probe ~= '' and redis.call('HEXISTS', KEYS[6], probe) == 0 then restored = restored + 2 end
end
)lua";

// ARGV[13] may_admit_directly (1/0), ARGV[14] the block of RoomLimits'
// last_block (-1: not known or not a plain permutation), ARGV[15] its
// ticket_at as for kTick. A ticket of that block whose number `serving`
// already passed is never issued (NextTicket in room_logic.cc).
inline constexpr std::string_view kArrive = R"lua(
refill()
local a, b = 0, 0
if ARGV[13] == '1' and serving >= invite_ceiling() and credit >= 1.0 and has_space() then
  credit = credit - 1.0
  count_admission(-1)
  a, b = 1, cur
else
  tickets = next_ticket(tonumber(ARGV[14]) or -1, ARGV[15] or '')
  b = tickets
end
save()
return reply(a, b)
)lua";

// ARGV[13] the queue number, ARGV[14] the session id the claim starts
// (decimal; "0": none), ARGV[15] invite_window_ms (0: none), ARGV[16] and
// ARGV[17] the last block as for kArrive, ARGV[18] the ticket's issuer
// (decimal; "0" or absent: the store's ticket, recorded in the bitmap; else
// in KEYS[11] under "<issuer>:<number>"). Reply a: 1 admitted, 2 reused
// (claimed before or below the claim window), 3 admitted again (a repeat
// claim with the first claim's session, still counted and not ended:
// nothing counted), 4 lapsed (invited longer than the window ago: the
// number is spent, b is a new ticket), 0 not now; b: the session's bucket.
// The first claim records the session in the renewed set at the current
// bucket (ClaimStep in room_logic.cc).
inline constexpr std::string_view kClaim = R"lua(
local number = tonumber(ARGV[13])
local sid = ARGV[14] or '0'
local window_ms = tonumber(ARGV[15]) or 0
local issuer = ARGV[18] or '0'
local a, b = 0, 0
local invited = number ~= 0 and number <= serving
local below = invited and serving - number >= CLAIM_WINDOW
-- One ticket, one admission, per (number, issuer) (room_logic.cc).
local member = issuer .. ':' .. string.format('%d', number)
local function claimed_before()
  if issuer == '0' then return redis.call('GETBIT', KEYS[8], number % CLAIM_WINDOW) == 1 end
  return redis.call('ZSCORE', KEYS[11], member) ~= false
end
local function record_claim()
  if issuer == '0' then
    redis.call('SETBIT', KEYS[8], number % CLAIM_WINDOW, 1)
    return
  end
  if serving >= CLAIM_WINDOW then
    redis.call('ZREMRANGEBYSCORE', KEYS[11], '-inf', serving - CLAIM_WINDOW)
  end
  redis.call('ZADD', KEYS[11], number, member)
end
if invited and (below or claimed_before()) then
  a = 2
  if not below and sid ~= '0' then
    local until_ms = redis.call('ZSCORE', KEYS[9], sid)
    if not (until_ms and tonumber(until_ms) > now) then
      local counted = tonumber(redis.call('ZSCORE', KEYS[10], sid) or '')
      if counted and counted > cur - sb and counted <= cur then a, b = 3, counted end
    end
  end
elseif invited and window_ms > 0 and invited_no_later_than(number) >= 0 and
       now >= (invited_no_later_than(number) + 1) * BUCKET + window_ms then
  -- InvitationLapsed: spent, and a new ticket at the back.
  record_claim()
  tickets = next_ticket(tonumber(ARGV[16]) or -1, ARGV[17] or '')
  a, b = 4, tickets
  save()
elseif invited and active() < total then
  local cohort = cohort_of(number)
  if cohort < cur - 12 then cohort = -1 end
  refill()
  local reserved = cohort >= 0 and
                   sum(4, cur - 12, cur) + 1.0 <= sum(5, cur - 12, cur) * ratio * 1.1 + 1e-9
  if not reserved then credit = math.max(-burst, credit - 1.0) end
  record_claim()
  count_admission(cohort)
  if sid ~= '0' then
    local n = redis.call('ZCARD', KEYS[10])
    if n >= MAX_RENEWED then redis.call('ZREMRANGEBYRANK', KEYS[10], 0, n - MAX_RENEWED) end
    redis.call('ZADD', KEYS[10], cur, sid)
  end
  a, b = 1, cur
  save()
end
return reply(a, b)
)lua";

inline constexpr std::string_view kAdmit = R"lua(
count_admission(-1)
save()
return reply(cur, 0)
)lua";

// ARGV[13] the session's old bucket, ARGV[14] the session id (decimal; "0":
// none). Reply a: the current bucket, or -1 when the session was ended.
inline constexpr std::string_view kRenew = R"lua(
local old = tonumber(ARGV[13])
local sid = ARGV[14]
if sid ~= '0' then
  local until_ms = redis.call('ZSCORE', KEYS[9], sid)
  if until_ms and tonumber(until_ms) > now then return reply(-1, 0) end
  -- Counted where its last renewal put it, whatever older pass comes again.
  local renewed = redis.call('ZSCORE', KEYS[10], sid)
  if renewed and tonumber(renewed) > old then old = tonumber(renewed) end
end
old = carried_bucket(old)
if old >= cur then return reply(old, 0) end
if old > cur - sb and get(2, old) > 0 then add(2, old, -1) end
add(2, cur, 1)
if sid ~= '0' then
  local n = redis.call('ZCARD', KEYS[10])
  if n >= MAX_RENEWED then redis.call('ZREMRANGEBYRANK', KEYS[10], 0, n - MAX_RENEWED) end
  redis.call('ZADD', KEYS[10], cur, sid)
end
return reply(cur, 0)
)lua";

// ARGV[13] the session's bucket, ARGV[14] the session id (decimal), ARGV[15]
// the pass's expiry (ms). Reply a: 1 ended now, 0 already ended (or id 0).
inline constexpr std::string_view kEnd = R"lua(
local bucket = tonumber(ARGV[13])
local sid = ARGV[14]
if sid == '0' then return reply(0, 0) end
redis.call('ZREMRANGEBYSCORE', KEYS[9], '-inf', now)
local known = redis.call('ZSCORE', KEYS[9], sid)
if known and tonumber(known) > now then return reply(0, 0) end
local until_ms = math.max(tonumber(ARGV[15]), (cur + 1) * BUCKET + session_ms)
local n = redis.call('ZCARD', KEYS[9])
if n >= MAX_ENDED then redis.call('ZREMRANGEBYRANK', KEYS[9], 0, n - MAX_ENDED) end
redis.call('ZADD', KEYS[9], until_ms, sid)
local renewed = redis.call('ZSCORE', KEYS[10], sid)
if renewed and tonumber(renewed) > bucket then bucket = tonumber(renewed) end
bucket = carried_bucket(bucket)
if bucket <= cur and bucket > cur - sb and get(2, bucket) > 0 then add(2, bucket, -1) end
return reply(1, 0)
)lua";

// ARGV[13] a floor for `tickets`: tickets this instance issued on its own
// while Redis was unreachable (on_failure = local), so that they are invited
// in turn once Redis is back (0 = none). ARGV[14] the block of RoomLimits'
// last_block (-1: not known), ARGV[15] its ticket_at, one character per
// number: '0' + the ticket's offset, '.' for kNoTicket (room_store.h
// BlockOrder; the walk is WalkInvitations in room_logic.cc). ARGV[16]
// invite_window_ms (0: none): how long the cohorts are kept.
inline constexpr std::string_view kTick = R"lua(
local floor = tonumber(ARGV[13]) or 0
if floor > tickets then tickets = floor end
local order_block = tonumber(ARGV[14]) or -1
local order = ARGV[15] or ''
local window_ms = tonumber(ARGV[16]) or 0
-- Numbers up to `full` are all issued; the last, partly filled block's
-- empty numbers are passed over free (people are invited, not numbers).
local function walk(people)
  local ceiling = invite_ceiling()
  local to, invited = serving, 0
  if ceiling <= to or people == 0 then return to, invited end
  local full = tickets
  if ceiling ~= tickets then full = math.floor((tickets - 1) / 64) * 64 end
  if to < full then
    local take = math.min(people, full - to)
    to = to + take
    invited = invited + take
  end
  if invited == people or to >= ceiling then return to, invited end
  if order_block ~= math.floor(full / 64) or #order ~= 64 then return to, invited end
  local issued = tickets - full
  for n = to + 1, ceiling do
    local at = string.byte(order, n - full) - 48
    if at < 0 or at < issued then
      if invited == people then return to, invited end
      invited = invited + 1
      to = n
    end
  end
  return ceiling, invited
end
refill()
prune(2, cur - sb)
prune(3, cur - 12)
prune(4, cur - 12)
prune(5, cur - 12)
-- The cohorts also date invitations for the invitation window; the newest
-- is never dropped (CohortBucketsKept and Prune in room_logic.cc).
do
  local kept = math.max(12, math.floor((math.max(0, window_ms) + BUCKET - 1) / BUCKET) + 1)
  local newest = -1
  for b, _ in pairs(H(7)) do
    if b > newest then newest = b end
  end
  prune(7, math.min(cur - kept, newest))
end
redis.call('ZREMRANGEBYSCORE', KEYS[9], '-inf', cur * BUCKET)
redis.call('ZREMRANGEBYSCORE', KEYS[10], '-inf', cur - sb)
-- The claim ratio over the 6 newest cohorts whose live visitors have all
-- had a refresh interval to poll (ClaimRatioNewestCohort in room_logic.cc).
local wait = math.floor((math.max(0, refresh_ms) + BUCKET - 1) / BUCKET)
if wait > 5 then wait = 5 end
local newest = cur - 1 - wait
local invited = sum(5, newest - 5, newest)
if invited >= 20 then
  local r = sum(4, newest - 5, newest) / invited
  if r < 0.1 then r = 0.1 end
  if r > 1.0 then r = 1.0 end
  ratio = r
end
if queueing and invite_ceiling() > serving then
  local space = total - active() - outstanding()
  local allowed = math.min(credit, space)
  if allowed > 0 then
    local people = math.floor(allowed / ratio + 1e-9)
    local to, invited = walk(people)
    if to > serving then
      clear_claims(serving + 1, to)
      if H(7)[cur] == nil then
        redis.call('HSET', KEYS[7], cur, fmt(serving + 1))
        H(7)[cur] = serving + 1
      end
      serving = to
      add(5, cur, invited)
      credit = credit - invited * ratio
    end
  end
end
save()
return reply(0, 0)
)lua";

// ARGV[13] the mark's name.
inline constexpr std::string_view kMark = R"lua(
redis.call('HSETNX', KEYS[6], ARGV[13], fmt(tickets))
local v = tonumber(redis.call('HGET', KEYS[6], ARGV[13]))
return reply(v, 0)
)lua";

// ARGV[13] the name, ARGV[14] the proposed value (0 = only read).
inline constexpr std::string_view kKeep = R"lua(
if ARGV[14] ~= '0' then redis.call('HSETNX', KEYS[6], ARGV[13], ARGV[14]) end
local v = tonumber(redis.call('HGET', KEYS[6], ARGV[13])) or 0
return reply(v, 0)
)lua";

// ARGV[13..] pairs of a mark's (or kept value's) name and value: the ones
// this instance knows, proposed again after Redis lost them (the first
// value recorded for a name still wins, as in kMark and kKeep).
inline constexpr std::string_view kRestoreMarks = R"lua(
for i = 13, #ARGV - 1, 2 do redis.call('HSETNX', KEYS[6], ARGV[i], ARGV[i + 1]) end
return reply(0, 0)
)lua";

// Auto-protection's shared decision (queue/redis_protect_lease.h), on its
// own key KEYS[1] = <room>:protect (hash: leader lease_until decision
// published_at). Not run with the prelude. ARGV: 1 now_ms (0 = Redis TIME),
// 2 the caller's id, 3 lease_ms, 4 may_lead (1/0), 5 publish (1/0), 6 the
// decision (opaque text: the controller's state as JSON).
// Reply: {leading (1/0), leader id or "", lease_until, published_at ("" =
// never), decision ("" = none), now}.
inline constexpr std::string_view kProtectSync = R"lua(
local now = tonumber(ARGV[1])
if now <= 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local me = ARGV[2]
local h = redis.call('HMGET', KEYS[1], 'leader', 'lease_until')
local leader = h[1] or ''
local lease_until = tonumber(h[2]) or 0
local leading = leader == me and lease_until > now
if leading and ARGV[5] == '1' then
  redis.call('HSET', KEYS[1], 'decision', ARGV[6], 'published_at', string.format('%d', now))
end
if leading or (lease_until <= now and ARGV[4] == '1') then
  lease_until = now + tonumber(ARGV[3])
  leader = me
  leading = true
  redis.call('HSET', KEYS[1], 'leader', me, 'lease_until', string.format('%d', lease_until))
end
redis.call('PEXPIRE', KEYS[1], 86400000)
local d = redis.call('HMGET', KEYS[1], 'published_at', 'decision')
return {leading and '1' or '0', leader, string.format('%d', lease_until), d[1] or '', d[2] or '',
        string.format('%d', now)}
)lua";

}  // namespace tidegate::queue::scripts
