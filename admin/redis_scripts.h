// The Lua scripts the Redis state store runs (EVALSHA through
// redis/script_runner.h, which falls back to EVAL when Redis lost them).
// Each one is atomic: no other client's command runs in the middle.
//
// Keys (one hash tag, so they live in one Redis Cluster slot):
//   KEYS[1] <prefix>:state    the whole RuntimeState as JSON (admin/runtime_state_json.h)
//   KEYS[2] <prefix>:version  its version, as a decimal string
//   KEYS[3] <prefix>:audit    a stream of audit entries, capped with MAXLEN ~
#pragma once

namespace tidegate::admin {

// Compare-and-set of the whole state.
// ARGV: [1] the version the change was computed from, [2] the new state JSON,
//       [3] the new version, [4] the audit entry JSON, [5] the stream cap,
//       [6] the pub/sub channel.
// Returns {1, new version} when written (and announced), {0, current
// version} when the stored version is newer than ARGV[1] (another instance
// wrote first). A missing version key (Redis restarted empty) or an older
// one (FLUSHALL, a failover to a replica that missed the last writes)
// matches: the writer's state is newer, the higher version wins.
inline constexpr char kCompareAndSetScript[] = R"lua(
local current = redis.call('GET', KEYS[2])
if current and (tonumber(current) == nil or tonumber(current) > tonumber(ARGV[1])) then
  return {0, tonumber(current) or 0}
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'entry', ARGV[4])
redis.call('PUBLISH', ARGV[6], ARGV[3])
return {1, tonumber(ARGV[3])}
)lua";

// Writes back the state an instance holds when Redis has none (restarted
// without persistence) or an older one (FLUSHALL then an older write, a
// failover to a replica that missed the last writes). KEYS as above. ARGV:
// [1] state JSON, [2] its version, [3] the channel, [4] the audit entry
// JSON ("restore_state"), [5] the stream cap. Returns 1 when written (and
// audited, and announced), 0 when Redis holds this version or a newer one
// already (the higher version wins; two instances writing back do not
// fight, and only the one that wrote leaves an audit entry).
inline constexpr char kWriteBackScript[] = R"lua(
local current = redis.call('GET', KEYS[2])
if current then
  if tonumber(current) == nil or tonumber(current) >= tonumber(ARGV[2]) then
    return 0
  end
elseif redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'entry', ARGV[4])
redis.call('PUBLISH', ARGV[3], ARGV[2])
return 1
)lua";

}  // namespace tidegate::admin
