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
// version} when the stored version is not ARGV[1]. A missing version key
// (Redis restarted empty) matches any base: the writer's last known state is
// the best there is.
inline constexpr char kCompareAndSetScript[] = R"lua(
local current = redis.call('GET', KEYS[2])
if current and current ~= ARGV[1] then
  return {0, tonumber(current)}
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'entry', ARGV[4])
redis.call('PUBLISH', ARGV[6], ARGV[3])
return {1, tonumber(ARGV[3])}
)lua";

// Writes back a state an instance still holds when Redis has none (it was
// restarted without persistence). ARGV: [1] state JSON, [2] its version,
// [3] the channel. Returns 1 when written, 0 when a state exists already.
inline constexpr char kSeedScript[] = R"lua(
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[2])
return 1
)lua";

}  // namespace tidegate::admin
