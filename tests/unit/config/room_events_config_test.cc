// [[rooms.NAME.events]]: scheduled events of a waiting room (times, order,
// overlap, names, limits), with file:line:col errors.
#include <gtest/gtest.h>

#include <chrono>

#include "tests/unit/config/test_helpers.h"

namespace tidegate::config {
namespace {

using testing::AllErrors;
using testing::HasError;
using testing::LoadWithMinimal;

// mode off: no [secrets].token_keys needed (line 7 is [rooms.shop], line 10
// the first key of the first event).
constexpr char kRoom[] = "[rooms.shop]\nmatch = [\"^/\"]\nmode = \"off\"\n";

int64_t UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

const ConfigError* FindError(const LoadResult& result, const std::string& key) {
  for (const ConfigError& e : result.errors) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

TEST(RoomEventsConfigTest, ReadsEventsWithTheirLimitsSortedByTime) {
  LoadResult result = LoadWithMinimal(std::string(kRoom) +
                                      "[[rooms.shop.events]]\n"
                                      "name = \"winter-sale\"\n"
                                      "prequeue_start = 2026-12-01T08:00:00+01:00\n"
                                      "start = \"2026-12-01T09:00:00+01:00\"\n"
                                      "end = 2026-12-01T12:00:00Z\n"
                                      "total_active_users = 300\n"
                                      "new_users_per_minute = 120\n"
                                      "session_duration = \"10m\"\n"
                                      "queueing_method = \"fifo\"\n"
                                      "mode = \"queue_all\"\n"
                                      "[[rooms.shop.events]]\n"
                                      "name = \"black-friday\"\n"
                                      "prequeue_start = 2026-11-27T07:30:00Z\n"
                                      "start = 2026-11-27T08:00:00Z\n"
                                      "end = 2026-11-27T20:00:00Z\n");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  const std::vector<RoomEventConfig>& events = result.config->rooms[0].events;
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].name, "black-friday");  // sorted by prequeue_start
  EXPECT_FALSE(events[0].total_active_users.has_value());
  EXPECT_FALSE(events[0].mode.has_value());
  const RoomEventConfig& winter = events[1];
  EXPECT_EQ(winter.name, "winter-sale");
  EXPECT_EQ(UnixSeconds(winter.prequeue_start), 1796108400);  // 2026-12-01T07:00:00Z
  EXPECT_EQ(UnixSeconds(winter.start), 1796112000);           // 08:00Z
  EXPECT_EQ(UnixSeconds(winter.end), 1796126400);             // 12:00Z
  EXPECT_EQ(winter.total_active_users, 300u);
  EXPECT_EQ(winter.new_users_per_minute, 120u);
  EXPECT_EQ(winter.session_duration, Duration(600'000));
  EXPECT_EQ(winter.queueing_method, QueueingMethod::kFifo);
  EXPECT_EQ(winter.mode, RoomMode::kQueueAll);
}

TEST(RoomEventsConfigTest, InlineArrayAndNoPrequeueAreAccepted) {
  LoadResult result =
      LoadWithMinimal(std::string(kRoom) +
                      "events = [{ name = \"drop\", prequeue_start = 2026-11-27T08:00:00Z, start = "
                      "2026-11-27T08:00:00Z, end = 2026-11-27T09:00:00Z }]\n");
  ASSERT_TRUE(result.ok()) << AllErrors(result);
  ASSERT_EQ(result.config->rooms[0].events.size(), 1u);
  EXPECT_EQ(result.config->rooms[0].events[0].prequeue_start,
            result.config->rooms[0].events[0].start);
}

TEST(RoomEventsConfigTest, BadOrderIsAnErrorAtTheKeysLine) {
  LoadResult result = LoadWithMinimal(std::string(kRoom) +
                                      "[[rooms.shop.events]]\n"
                                      "name = \"sale\"\n"
                                      "prequeue_start = 2026-11-27T09:00:00Z\n"
                                      "start = 2026-11-27T08:00:00Z\n"  // line 13
                                      "end = 2026-11-27T10:00:00Z\n");
  EXPECT_FALSE(result.ok());
  const ConfigError* e = FindError(result, "rooms.shop.events[0].start");
  ASSERT_NE(e, nullptr) << AllErrors(result);
  EXPECT_NE(e->message.find("must not be before prequeue_start"), std::string::npos);
  EXPECT_EQ(e->line, 13);
  EXPECT_GT(e->column, 0);
  EXPECT_NE(e->file.find("main.toml"), std::string::npos);

  LoadResult end_first = LoadWithMinimal(std::string(kRoom) +
                                         "[[rooms.shop.events]]\n"
                                         "name = \"sale\"\n"
                                         "prequeue_start = 2026-11-27T07:00:00Z\n"
                                         "start = 2026-11-27T08:00:00Z\n"
                                         "end = 2026-11-27T08:00:00Z\n");  // line 14
  const ConfigError* e2 = FindError(end_first, "rooms.shop.events[0].end");
  ASSERT_NE(e2, nullptr) << AllErrors(end_first);
  EXPECT_NE(e2->message.find("must be after start"), std::string::npos);
  EXPECT_EQ(e2->line, 14);
}

TEST(RoomEventsConfigTest, OverlappingEventsAreRefused) {
  LoadResult result = LoadWithMinimal(std::string(kRoom) +
                                      "[[rooms.shop.events]]\n"
                                      "name = \"a\"\n"
                                      "prequeue_start = 2026-11-27T07:00:00Z\n"
                                      "start = 2026-11-27T08:00:00Z\n"
                                      "end = 2026-11-27T10:00:00Z\n"
                                      "[[rooms.shop.events]]\n"
                                      "name = \"b\"\n"
                                      "prequeue_start = 2026-11-27T09:30:00Z\n"  // line 17
                                      "start = 2026-11-27T11:00:00Z\n"
                                      "end = 2026-11-27T12:00:00Z\n");
  EXPECT_FALSE(result.ok());
  const ConfigError* e = FindError(result, "rooms.shop.events.b");
  ASSERT_NE(e, nullptr) << AllErrors(result);
  EXPECT_NE(e->message.find("overlaps event \"a\""), std::string::npos);
  EXPECT_EQ(e->line, 17);
}

TEST(RoomEventsConfigTest, BadTimesNamesAndKeysAreRefused) {
  LoadResult no_offset = LoadWithMinimal(std::string(kRoom) +
                                         "[[rooms.shop.events]]\n"
                                         "name = \"sale\"\n"
                                         "prequeue_start = 2026-11-27T07:00:00\n"  // local time
                                         "start = \"tomorrow\"\n"
                                         "end = 2026-11-27T10:00:00Z\n");
  EXPECT_TRUE(HasError(no_offset, "rooms.shop.events[0].prequeue_start", "with an offset"))
      << AllErrors(no_offset);
  EXPECT_TRUE(HasError(no_offset, "rooms.shop.events[0].start", "RFC 3339"))
      << AllErrors(no_offset);

  LoadResult missing = LoadWithMinimal(std::string(kRoom) +
                                       "[[rooms.shop.events]]\n"
                                       "name = \"bad name!\"\n"
                                       "start = 2026-11-27T08:00:00Z\n"
                                       "total_active_users = 0\n"
                                       "mode = \"off\"\n"
                                       "colour = \"red\"\n");
  EXPECT_TRUE(HasError(missing, "rooms.shop.events[0].name", "letters")) << AllErrors(missing);
  EXPECT_TRUE(HasError(missing, "rooms.shop.events[0].prequeue_start", "is required"));
  EXPECT_TRUE(HasError(missing, "rooms.shop.events[0].end", "is required"));
  EXPECT_TRUE(HasError(missing, "rooms.shop.events[0].total_active_users", ""));
  EXPECT_TRUE(HasError(missing, "rooms.shop.events[0].mode", "\"off\" is not one of"));
  EXPECT_TRUE(HasError(missing, "rooms.shop.events[0].colour", ""));

  LoadResult twice = LoadWithMinimal(std::string(kRoom) +
                                     "[[rooms.shop.events]]\n"
                                     "name = \"sale\"\n"
                                     "prequeue_start = 2026-11-27T07:00:00Z\n"
                                     "start = 2026-11-27T08:00:00Z\n"
                                     "end = 2026-11-27T09:00:00Z\n"
                                     "[[rooms.shop.events]]\n"
                                     "name = \"sale\"\n"
                                     "prequeue_start = 2026-11-28T07:00:00Z\n"
                                     "start = 2026-11-28T08:00:00Z\n"
                                     "end = 2026-11-28T09:00:00Z\n");
  EXPECT_TRUE(HasError(twice, "rooms.shop.events[1].name", "already the name")) << AllErrors(twice);
}

}  // namespace
}  // namespace tidegate::config
