// What the waiting room's join checks cost per queued request (issue 11),
// beside what a queue page already costs, measured in the same run:
//
//   build/benches/join_check/join_check_bench [iterations]
//
// Each figure is the median of 7 rounds of `iterations` calls (default
// 200,000), in ns per call, on one thread. Peers: signing the wait cookie
// (the HMAC every queue page already pays) and rendering the queue page.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "common/signed_token.h"
#include "config/config.h"
#include "queue/join_challenge.h"
#include "queue/queue_page.h"
#include "queue/ticket_rate_limit.h"

namespace {

using tidegate::common::SignedTokenCodec;
using tidegate::common::SigningKey;
using tidegate::common::TokenPurpose;
using namespace tidegate::queue;

volatile uint64_t g_sink = 0;  // keeps results alive
void Keep(uint64_t value) { g_sink = g_sink + value; }

double MedianNs(uint64_t iterations, const std::function<void(uint64_t)>& body) {
  std::vector<double> rounds;
  for (int r = 0; r < 7; ++r) {
    auto start = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < iterations; ++i) body(r * iterations + i);
    std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
    rounds.push_back(took.count() / static_cast<double>(iterations));
  }
  std::sort(rounds.begin(), rounds.end());
  return rounds[rounds.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200'000;
  const std::string secret = "bench-signing-key-0123456789abcdef0123456789";
  JoinChallengeCodec codec(SignedTokenCodec(std::vector<SigningKey>{{"k1", secret}}));
  SignedTokenCodec peer(std::vector<SigningKey>{{"k1", secret}});
  constexpr int64_t kNow = 1'800'000'000'000;
  const int bits = 18;
  std::string token = codec.Issue("shop", bits, kNow);
  std::string answer = SolveChallenge(token, bits, uint64_t{1} << 30).value_or("");
  std::string no_work = token + ".0";
  if (answer.empty()) return 1;

  std::vector<std::string> ips;
  for (int i = 0; i < 4096; ++i) {
    ips.push_back(i % 2 ? "203.0." + std::to_string(i / 256) + "." + std::to_string(i % 256)
                        : "2001:db8:" + std::to_string(i) + "::1");
  }
  ChallengeReplays replays;
  TicketRateLimiter limiter;
  tidegate::config::SiteConfig site;
  std::string error;
  std::optional<QueuePage> page = QueuePage::Build(site, "shop", 5, &error, bits);
  if (!page) return 1;

  struct Row {
    const char* what;
    double ns;
  };
  std::vector<Row> rows = {
      {"check a valid answer (SHA-256 + HMAC + parse)",
       MedianNs(n,
                [&](uint64_t) {
                  Keep(codec.Check(answer, "shop", bits, kNow, nullptr) == AnswerCheck::kValid);
                })},
      {"check an answer without work (SHA-256 only)",
       MedianNs(n,
                [&](uint64_t) {
                  Keep(codec.Check(no_work, "shop", bits, kNow, nullptr) == AnswerCheck::kNoWork);
                })},
      {"replay memory: first use of a nonce",
       MedianNs(n,
                [&](uint64_t i) {
                  Keep(replays.FirstUse(i * 0x9e3779b97f4a7c15ULL, kNow + 125'000, kNow));
                })},
      {"rate limiter: one join (IPv4 or IPv6 /64)",
       MedianNs(n, [&](uint64_t i) { Keep(limiter.Allow(ips[i % ips.size()], 1'000'000, kNow)); })},
      {"issue a challenge (RAND_bytes + HMAC)",
       MedianNs(n / 4, [&](uint64_t) { Keep(codec.Issue("shop", bits, kNow).size()); })},
      {"peer: sign a wait cookie (every queue page)",
       MedianNs(n / 4,
                [&](uint64_t i) {
                  Keep(peer.Sign(TokenPurpose::kWait, "shop|" + std::to_string(i) + "|1|2").size());
                })},
      {"peer: render the queue page",
       MedianNs(
           n / 4,
           [&](uint64_t i) {
             QueuePageValues v;
             v.position = i;
             v.now_ms = kNow;
             v.self_url = "/";
             Keep(page->Render(tidegate::pages::Language::kEnglish, PageKind::kQueued, v).size());
           })},
  };
  std::printf("| step | ns per call (median of 7 x %llu) |\n|---|---|\n",
              static_cast<unsigned long long>(n));
  for (const Row& r : rows) std::printf("| %s | %.0f |\n", r.what, r.ns);
  return 0;
}
