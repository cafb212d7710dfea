// `tidegate ctl`: the operator CLI over the admin API.
//
//   tidegate ctl [--admin URL] [--token-file F] [--cacert F] [--json] <command>
//     state
//     maintenance on FEATURE --message TEXT [--until TIME] [--starts-at TIME]
//     maintenance off FEATURE
//     banner set --message TEXT [--severity info|warning|critical]
//                [--next-update TIME] [--expires TIME]
//     banner clear
//     room set ROOM key=value…   (mode, total_active_users, new_users_per_minute,
//                                 session_duration, queueing_method; value
//                                 "config" clears the override)
//     room reset ROOM            (clears every override of the room)
//     incident open --title TEXT --message TEXT --impact IMPACT [--features F1,F2]
//                   [--maintenance all|none|F1,F2] [--banner] [--next-update TIME]
//                   [--room ROOM=MODE] [--status STATUS]
//     incident update ID --message TEXT [--status STATUS] [--next-update TIME]
//     incident resolve ID --message TEXT
//     incident list | incident show ID
//     audit [--limit N]
//     metrics
//   TIME is RFC 3339 ("2026-11-23T14:30:00Z") or a delay from now ("30m", "2h", "2d").
//
// Admin URL: --admin, else $TIDEGATE_ADMIN_URL, else http://127.0.0.1:9901;
// https:// URLs verify the server against --cacert F (PEM) or the system CAs.
// Token: --token-file, else $TIDEGATE_ADMIN_TOKEN_FILE, else
// $TIDEGATE_ADMIN_TOKEN; none → requests go without a token (only /metrics
// from loopback works then).
// A token (file or variable) with a line break or another control character
// is refused before anything is sent.
// Exit codes: 0 done, 1 refused or failed (unreachable, 4xx/5xx, unreadable
// token file), 2 usage (bad words or option values, a token file that is
// empty, a directory or more than one token line).
//
// Contract: blocking, single-threaded; writes results to `out`, errors to
// `err`.
#pragma once

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/rfc3339.h"
#include "common/time_source.h"

namespace tidegate::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
// A change was sent and no answer came back (timed out, connection lost):
// it may have been applied. Read-only commands exit kExitFailed instead.
inline constexpr int kExitUnknown = 3;

struct CtlEnvironment {
  std::optional<std::string> admin_url;      // $TIDEGATE_ADMIN_URL
  std::optional<std::string> token_file;     // $TIDEGATE_ADMIN_TOKEN_FILE
  std::optional<std::string> token;          // $TIDEGATE_ADMIN_TOKEN
  const common::TimeSource* time = nullptr;  // not owned; defaults to common::SystemTime()
};

// `args` are the words after "ctl".
int RunCtlArgs(const std::vector<std::string>& args, const CtlEnvironment& env, std::ostream& out,
               std::ostream& err);

// Entry point for the binary: argv[0] is "ctl" (call RunCtl(argc - 1, argv + 1)
// from `tidegate ctl …`); reads the environment, prints to stdout/stderr.
int RunCtl(int argc, char** argv);

}  // namespace tidegate::ctl
