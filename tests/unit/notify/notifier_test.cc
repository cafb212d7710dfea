// notify/notifier.h end to end on one event loop: a real HTTP receiver
// (evhttp on a loopback port) gets signed POSTs from the notifier, which
// retries a failing receiver with backoff, gives up after give_up_after,
// and sends incident.update_overdue once per late promise. Wall time is a
// FakeTimeSource (due times, signatures); the sockets are real.
#include "notify/notifier.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <chrono>
#include <deque>
#include <filesystem>

#include "notify/local_outbox.h"
#include "notify/signature.h"

namespace tidegate::notify {
namespace {

using namespace std::chrono_literals;
constexpr char kSecret[] = "whsec-notifier-test-0123456789";

struct Received {
  std::string signature;
  std::string event;
  std::string body;
};

class NotifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/tidegate-notifier-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    folder_ = pattern;
    base_ = event_base_new();
    http_ = evhttp_new(base_);
    evhttp_bound_socket* bound = evhttp_bind_socket_with_handle(http_, "127.0.0.1", 0);
    ASSERT_NE(bound, nullptr);
    sockaddr_in address{};
    socklen_t length = sizeof address;
    getsockname(evhttp_bound_socket_get_fd(bound), reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    evhttp_set_gencb(http_, &NotifierTest::OnRequest, this);

    auto config = std::make_shared<config::Config>();
    config::WebhookConfig hook;
    hook.url = "http://127.0.0.1:" + std::to_string(port_) + "/hooks/tidegate";
    hook.secret = kSecret;
    config->notify.webhooks.push_back(hook);
    config->notify.timeout = 2s;
    config->notify.retry_initial = 1s;
    config->notify.retry_max = 10s;
    config->notify.give_up_after = 1h;
    config_ = config;
  }

  void TearDown() override {
    notifier_.reset();
    evhttp_free(http_);
    event_base_free(base_);
    std::filesystem::remove_all(folder_);
  }

  void StartNotifier() {
    std::string folder = folder_;
    notifier_ = std::make_unique<Notifier>(
        base_, config_, time_, [this] { return state_; },
        [folder]() -> std::unique_ptr<Outbox> {
          std::string warning;
          return LocalOutbox::Open(folder, 0, &warning);
        },
        [](std::string_view, std::string_view) {});
    notifier_->Start();
  }

  static void OnRequest(evhttp_request* request, void* arg) {
    auto* self = static_cast<NotifierTest*>(arg);
    evkeyvalq* in = evhttp_request_get_input_headers(request);
    const char* signature = evhttp_find_header(in, "Tidegate-Signature");
    const char* event = evhttp_find_header(in, "Tidegate-Event");
    evbuffer* body = evhttp_request_get_input_buffer(request);
    std::string text(evbuffer_get_length(body), '\0');
    evbuffer_copyout(body, text.data(), text.size());
    self->received_.push_back({signature ? signature : "", event ? event : "", text});
    int status = 200;
    if (!self->statuses_.empty()) {
      status = self->statuses_.front();
      self->statuses_.pop_front();
    }
    evhttp_send_reply(request, status, "x", nullptr);
  }

  // Runs the loop until `done()` or 10 s of real time.
  template <typename Fn>
  bool RunUntil(Fn done) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      timeval slice{0, 20'000};
      event_base_loopexit(base_, &slice);
      event_base_dispatch(base_);
    }
    return true;
  }
  void RunFor(std::chrono::milliseconds d) {
    auto end = std::chrono::steady_clock::now() + d;
    RunUntil([&] { return std::chrono::steady_clock::now() >= end; });
  }

  static state::Incident Incident(common::TimePoint at) {
    state::Incident i;
    i.id = "inc1";
    i.title = "Payments failing";
    i.started_at = at;
    i.updates.push_back({at, state::IncidentStatus::kInvestigating, "Card payments fail.",
                         at + std::chrono::minutes(30), "ops"});
    return i;
  }

  std::string folder_;
  event_base* base_ = nullptr;
  evhttp* http_ = nullptr;
  uint16_t port_ = 0;
  std::shared_ptr<const config::Config> config_;
  common::FakeTimeSource time_;
  std::shared_ptr<const state::RuntimeState> state_ = std::make_shared<state::RuntimeState>();
  std::unique_ptr<Notifier> notifier_;
  std::deque<int> statuses_;
  std::vector<Received> received_;
};

TEST_F(NotifierTest, DeliversSignedEventsAndRetriesAFailingReceiver) {
  StartNotifier();
  statuses_ = {503};
  state::RuntimeState after;
  after.version = 1;
  after.incidents.push_back(Incident(time_.WallNow()));
  notifier_->OnApplied(state::RuntimeState{}, after);
  ASSERT_TRUE(RunUntil([&] { return notifier_->counters().retried_total == 1; }));
  ASSERT_EQ(received_.size(), 1u);
  RunFor(300ms);
  EXPECT_EQ(received_.size(), 1u) << "no retry before the backoff";

  time_.Advance(2s);  // past retry_initial (1 s, jitter <= 1.2)
  notifier_->Tick();
  ASSERT_TRUE(RunUntil([&] { return notifier_->counters().delivered_total == 1; }));
  ASSERT_EQ(received_.size(), 2u);
  EXPECT_EQ(received_[1].body, received_[0].body) << "the same event, byte for byte";
  EXPECT_EQ(received_[1].event, "incident.opened");
  int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(time_.WallNow().time_since_epoch()).count();
  EXPECT_TRUE(VerifySignature(kSecret, received_[1].signature, received_[1].body, now, 300))
      << received_[1].signature;
  nlohmann::json body = nlohmann::json::parse(received_[1].body);
  EXPECT_EQ(body["type"], "incident.opened");
  EXPECT_EQ(body["data"]["id"], "inc1");

  nlohmann::json status;
  notifier_->Status([&](nlohmann::json s) { status = std::move(s); });
  EXPECT_EQ(status["backend"], "local");
  EXPECT_TRUE(status["pending"].empty()) << status.dump();
  EXPECT_EQ(status["webhooks"][0]["url"], "http://127.0.0.1:" + std::to_string(port_) + "/…");
}

TEST_F(NotifierTest, GivesUpAfterGiveUpAfterAndShowsTheFailure) {
  StartNotifier();
  statuses_ = {500, 500, 500};
  state::RuntimeState after;
  after.maintenance["checkout"].message = "Back soon";
  notifier_->OnApplied(state::RuntimeState{}, after);
  ASSERT_TRUE(RunUntil([&] { return notifier_->counters().retried_total == 1; }));
  time_.Advance(std::chrono::hours(2));
  notifier_->Tick();
  ASSERT_TRUE(RunUntil([&] { return notifier_->counters().failed_total == 1; }));
  nlohmann::json status;
  notifier_->Status([&](nlohmann::json s) { status = std::move(s); });
  ASSERT_EQ(status["failed"].size(), 1u) << status.dump();
  EXPECT_EQ(status["failed"][0]["type"], "maintenance.on");
  EXPECT_EQ(status["failed"][0]["attempts"], 2);
  EXPECT_EQ(status["failed"][0]["last_error"], "HTTP 500");
}

TEST_F(NotifierTest, ARefusedConnectionIsRetriedAndSurvivesARestart) {
  // Nothing listens on the webhook's port: every attempt fails to connect.
  auto config = std::make_shared<config::Config>(*config_);
  evhttp_free(http_);
  http_ = evhttp_new(base_);
  config_ = config;
  StartNotifier();
  state::RuntimeState after;
  after.incidents.push_back(Incident(time_.WallNow()));
  notifier_->OnApplied(state::RuntimeState{}, after);
  ASSERT_TRUE(RunUntil([&] { return notifier_->counters().retried_total == 1; }));
  nlohmann::json status;
  notifier_->Status([&](nlohmann::json s) { status = std::move(s); });
  ASSERT_EQ(status["pending"].size(), 1u) << status.dump();
  EXPECT_NE(status["pending"][0]["last_error"].get<std::string>().find("connection"),
            std::string::npos)
      << status.dump();

  // A new process (a new notifier on the same folder) still has it.
  notifier_.reset();
  StartNotifier();
  notifier_->Status([&](nlohmann::json s) { status = std::move(s); });
  EXPECT_EQ(status["pending"].size(), 1u) << status.dump();
}

TEST_F(NotifierTest, ALatePromisedUpdateIsCountedAndSentOnce) {
  auto state = std::make_shared<state::RuntimeState>();
  state->incidents.push_back(Incident(time_.WallNow()));
  state_ = state;
  StartNotifier();
  notifier_->Tick();
  EXPECT_EQ(notifier_->counters().overdue_now, 0u);
  time_.Advance(std::chrono::minutes(31));
  notifier_->Tick();
  EXPECT_EQ(notifier_->counters().overdue_total, 1u);
  EXPECT_EQ(notifier_->counters().overdue_now, 1u);
  ASSERT_TRUE(RunUntil([&] { return notifier_->counters().delivered_total == 1; }));
  EXPECT_EQ(received_.back().event, "incident.update_overdue");
  notifier_->Tick();
  notifier_->Tick();
  RunFor(300ms);
  EXPECT_EQ(received_.size(), 1u) << "once per promise";
  EXPECT_EQ(notifier_->counters().overdue_total, 1u);

  // A restart does not send it again (the mark is in the outbox file).
  notifier_.reset();
  StartNotifier();
  notifier_->Tick();
  RunFor(300ms);
  EXPECT_EQ(received_.size(), 1u);
}

}  // namespace
}  // namespace tidegate::notify
