#include "queue/token.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <thread>
#include <vector>

#include "common/base64url.h"
#include "common/cookie_names.h"
#include "queue/cookies.h"

namespace tidegate::queue {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;
const std::string kSecret1(40, 'a');
const std::string kSecret2 = "another-secret-that-is-long-enough-1234567";

TokenCodec Codec() { return TokenCodec({{"k1", kSecret1}}); }

std::string GoodPass(const TokenCodec& codec, const std::string& room = "shop") {
  return codec.SignPass({room, kNow - 1000, kNow / 10'000, kNow + 300'000});
}

std::string GoodWait(const TokenCodec& codec, const std::string& room = "shop") {
  return codec.SignWait({room, 42, kNow - 1000, kNow + 3'600'000});
}

TEST(TokenTest, RoundTrips) {
  TokenCodec codec = Codec();
  auto pass = codec.VerifyPass(GoodPass(codec), "shop", kNow);
  ASSERT_TRUE(pass);
  EXPECT_EQ(pass->bucket, kNow / 10'000);
  EXPECT_EQ(pass->expires_ms, kNow + 300'000);
  auto wait = codec.VerifyWait(GoodWait(codec), "shop", kNow);
  ASSERT_TRUE(wait);
  EXPECT_EQ(wait->ticket, 42u);
}

TEST(TokenTest, Case41EveryFlippedBitIsRejected) {
  TokenCodec codec = Codec();
  std::string token = GoodPass(codec);
  for (size_t i = 0; i < token.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = token;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      EXPECT_FALSE(codec.VerifyPass(bad, "shop", kNow)) << "byte " << i << " bit " << bit;
    }
  }
}

// VerifyPass remembers verified passes (queue/pass_cache.h): a remembered
// pass answers the same as a full check, and nothing near it is accepted.
TEST(TokenTest, RememberedPassesAreCheckedLikeAnyOther) {
  TokenCodec codec = Codec();
  std::string token = GoodPass(codec);
  ASSERT_TRUE(codec.VerifyPass(token, "shop", kNow));  // remembered from now on
  auto again = codec.VerifyPass(token, "shop", kNow + 1);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->bucket, kNow / 10'000);
  EXPECT_EQ(again->room, "shop");
  for (size_t i = 0; i < token.size(); ++i) {
    std::string bad = token;
    bad[i] = static_cast<char>(bad[i] ^ 1);
    EXPECT_FALSE(codec.VerifyPass(bad, "shop", kNow)) << "byte " << i;
  }
  EXPECT_FALSE(codec.VerifyPass(token.substr(0, token.size() - 1), "shop", kNow));
  EXPECT_FALSE(codec.VerifyPass(token, "sale", kNow)) << "another room";
  EXPECT_FALSE(codec.VerifyWait(token, "shop", kNow)) << "a pass is never a wait";
  EXPECT_FALSE(codec.VerifyPass(token, "shop", kNow + 300'000)) << "a remembered pass expires";
  EXPECT_TRUE(codec.VerifyPass(token, "shop", kNow + 299'999));
  // Keys rotated on reload: a new codec has a new, empty memory.
  TokenCodec retired({{"k2", kSecret2}});
  EXPECT_FALSE(retired.VerifyPass(token, "shop", kNow));
}

TEST(TokenTest, Case41TruncatedAndMalformedAreRejected) {
  TokenCodec codec = Codec();
  std::string token = GoodPass(codec);
  for (size_t n = 0; n < token.size(); ++n) {
    EXPECT_FALSE(codec.VerifyPass(token.substr(0, n), "shop", kNow)) << n;
  }
  EXPECT_FALSE(codec.VerifyPass(token + "A", "shop", kNow));
  EXPECT_FALSE(codec.VerifyPass(token + ".x", "shop", kNow));
  EXPECT_FALSE(codec.VerifyPass("k1.!!!.###", "shop", kNow));
  EXPECT_FALSE(codec.VerifyPass("", "shop", kNow));
  EXPECT_FALSE(codec.VerifyPass("..", "shop", kNow));
  std::string padded = token;
  padded.insert(padded.rfind('.') + 1, "=");
  EXPECT_FALSE(codec.VerifyPass(padded, "shop", kNow));
}

TEST(TokenTest, Case42ExpiredFutureAndUnknownKeyAreRejected) {
  TokenCodec codec = Codec();
  std::string expired = codec.SignPass({"shop", kNow - 400'000, 1, kNow - 1});
  EXPECT_FALSE(codec.VerifyPass(expired, "shop", kNow));
  std::string future = codec.SignPass({"shop", kNow + kClockSkewMillis + 1, 1, kNow + 999'999});
  EXPECT_FALSE(codec.VerifyPass(future, "shop", kNow));
  std::string small_skew = codec.SignPass({"shop", kNow + 5'000, 1, kNow + 999'999});
  EXPECT_TRUE(codec.VerifyPass(small_skew, "shop", kNow));
  TokenCodec other({{"k9", kSecret1}});  // same secret, unknown id
  EXPECT_FALSE(codec.VerifyPass(GoodPass(other), "shop", kNow));
  // A token signed with k1 but relabelled k2 (a key the verifier knows).
  TokenCodec both({{"k2", kSecret2}, {"k1", kSecret1}});
  std::string relabelled = "k2" + GoodPass(codec).substr(2);
  EXPECT_FALSE(both.VerifyPass(relabelled, "shop", kNow));
}

// A lapsed wait token (docs/waiting-room.md, "A lost place") is recognised
// only when authentic, of the room, and lapsed less than `within` ago; a
// valid one is not lapsed, and no lapsed one is ever a valid wait token.
TEST(TokenTest, LapsedWaitIsAuthenticRecentAndNeverValid) {
  TokenCodec codec = Codec();
  constexpr int64_t kDay = 86'400'000;
  std::string lapsed = codec.SignWait({"shop", 42, kNow - 7 * 3'600'000, kNow - 3'600'000});
  auto t = codec.VerifyLapsedWait(lapsed, "shop", kNow, kDay);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->ticket, 42u);
  EXPECT_FALSE(codec.VerifyWait(lapsed, "shop", kNow));
  EXPECT_FALSE(codec.VerifyLapsedWait(lapsed, "other", kNow, kDay)) << "another room's";
  EXPECT_FALSE(codec.VerifyLapsedWait(lapsed, "shop", kNow - 3'600'000 + kDay, kDay))
      << "lapsed a day ago";
  EXPECT_TRUE(codec.VerifyLapsedWait(lapsed, "shop", kNow - 3'600'000 + kDay - 1, kDay));
  EXPECT_FALSE(codec.VerifyLapsedWait(GoodWait(codec), "shop", kNow, kDay)) << "still valid";
  EXPECT_FALSE(codec.VerifyLapsedWait(codec.SignPass({"shop", kNow - 7'200'000, 1, kNow - 1}),
                                      "shop", kNow, kDay))
      << "a pass";
  TokenCodec other({{"k1", kSecret2}});
  EXPECT_FALSE(other.VerifyLapsedWait(lapsed, "shop", kNow, kDay)) << "another key";
  for (size_t i = 0; i < lapsed.size(); ++i) {
    std::string bad = lapsed;
    bad[i] = static_cast<char>(bad[i] ^ 1);
    EXPECT_FALSE(codec.VerifyLapsedWait(bad, "shop", kNow, kDay)) << "byte " << i;
  }
}

TEST(TokenTest, RotationOldKeyStillVerifiesNewKeySigns) {
  TokenCodec old_codec = Codec();
  TokenCodec rotated({{"k2", kSecret2}, {"k1", kSecret1}});
  EXPECT_TRUE(rotated.VerifyPass(GoodPass(old_codec), "shop", kNow));
  std::string fresh = GoodPass(rotated);
  EXPECT_EQ(fresh.substr(0, 3), "k2.");
  EXPECT_FALSE(old_codec.VerifyPass(fresh, "shop", kNow)) << "k2 unknown to the old codec";
  TokenCodec retired({{"k2", kSecret2}});
  EXPECT_FALSE(retired.VerifyPass(GoodPass(old_codec), "shop", kNow)) << "k1 retired";
}

TEST(TokenTest, Case43PurposeAndRoomAreBound) {
  TokenCodec codec = Codec();
  EXPECT_FALSE(codec.VerifyPass(GoodWait(codec), "shop", kNow)) << "wait as pass";
  EXPECT_FALSE(codec.VerifyWait(GoodPass(codec), "shop", kNow)) << "pass as wait";
  EXPECT_FALSE(codec.VerifyPass(GoodPass(codec, "sale"), "shop", kNow)) << "other room";
  EXPECT_FALSE(codec.VerifyWait(GoodWait(codec, "sale"), "shop", kNow));
  EXPECT_FALSE(codec.VerifyPass(GoodPass(codec, "shop"), "sho", kNow)) << "prefix room";
}

TEST(TokenTest, Case45ForgedDuplicateCookieNeverWins) {
  TokenCodec codec = Codec();
  proxy::HeaderList headers;
  std::string good = GoodPass(codec);
  std::string forged = good;
  forged[forged.size() - 3] = forged[forged.size() - 3] == 'A' ? 'B' : 'A';
  headers.Add("Cookie", "tg_pass_shop=" + forged + "; other=1");
  headers.Add("Cookie", "tg_pass_shop=" + good);
  std::vector<std::string_view> values = CookieValues(headers, "tg_pass_shop");
  ASSERT_EQ(values.size(), 2u);
  int valid = 0;
  for (std::string_view v : values) valid += codec.VerifyPass(v, "shop", kNow).has_value();
  EXPECT_EQ(valid, 1);
  EXPECT_TRUE(CookieValues(headers, "__Host-tg_pass_shop").empty());
}

TEST(CookiesTest, NamesAndAttributes) {
  EXPECT_EQ(CookieName(CookieKind::kWait, "shop", false), "tg_wait_shop");
  EXPECT_EQ(CookieName(CookieKind::kPass, "shop", true), "__Host-tg_pass_shop");
  EXPECT_EQ(SetCookieValue("tg_pass_shop", "v", false, std::nullopt),
            "tg_pass_shop=v; Path=/; HttpOnly; SameSite=Lax");
  EXPECT_EQ(SetCookieValue("__Host-tg_wait_shop", "v", true, 60),
            "__Host-tg_wait_shop=v; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=60");
  EXPECT_EQ(ClearCookieValue("tg_pass_shop", false),
            "tg_pass_shop=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
}

// The proxy removes an origin's Set-Cookie for these names
// (proxy/origin_set_cookie.h): every name the waiting room uses is one.
TEST(CookiesTest, EveryRoomCookieIsAnOwnCookieName) {
  for (bool tls : {false, true}) {
    for (CookieKind kind : {CookieKind::kWait, CookieKind::kPass}) {
      EXPECT_TRUE(common::IsOwnCookieName(CookieName(kind, "shop", tls)));
      EXPECT_TRUE(common::IsOwnCookieName(CookieName(kind, "a-b.c", tls)));
    }
  }
}

// The token format is fixed (cookies issued before an upgrade stay valid):
// recompute tokens with OpenSSL's one-shot HMAC.
std::string Expected(const std::string& payload) {
  std::string message = "tidegate.v1|k1|" + payload;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), kSecret1.data(), static_cast<int>(kSecret1.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &length);
  return "k1." + common::Base64UrlEncode(payload) + "." +
         common::Base64UrlEncode(std::string_view(reinterpret_cast<char*>(mac), length));
}

TEST(TokenTest, FormatIsTheDocumentedOne) {
  TokenCodec codec = Codec();
  EXPECT_EQ(GoodWait(codec), Expected("w|shop|42|" + std::to_string(kNow - 1000) + "|" +
                                      std::to_string(kNow + 3'600'000)));
  EXPECT_EQ(codec.SignPass({"shop", -5, 7, 9}), Expected("p|shop|-5|7|9"));
  EXPECT_EQ(codec.SignWait({"a", UINT64_MAX, 0, 1}), Expected("w|a|18446744073709551615|0|1"));
}

// A pass carries its session id; one signed before session ids (four
// fields) still decodes, with session 0; a five-field pass with session 0
// or a non-number is refused.
TEST(TokenTest, PassCarriesItsSessionIdAndOldPassesStillDecode) {
  TokenCodec codec = Codec();
  PassToken t{"shop", kNow - 1000, kNow / 10'000, kNow + 300'000, 0xfedcba9876543210ULL};
  std::string text = codec.SignPass(t);
  std::string payload = "p|shop|" + std::to_string(kNow - 1000) + "|" +
                        std::to_string(kNow / 10'000) + "|" + std::to_string(kNow + 300'000);
  EXPECT_EQ(text, Expected(payload + "|18364758544493064720"));
  for (int i = 0; i < 2; ++i) {  // the second time from the pass cache
    auto pass = codec.VerifyPass(text, "shop", kNow);
    ASSERT_TRUE(pass);
    EXPECT_EQ(pass->session, 0xfedcba9876543210ULL);
  }
  auto legacy = codec.VerifyPass(Expected(payload), "shop", kNow);
  ASSERT_TRUE(legacy) << "a pass from before session ids keeps working until it expires";
  EXPECT_EQ(legacy->session, 0u);
  EXPECT_FALSE(codec.VerifyPass(Expected(payload + "|0"), "shop", kNow));
  EXPECT_FALSE(codec.VerifyPass(Expected(payload + "|x"), "shop", kNow));
  EXPECT_FALSE(codec.VerifyPass(Expected(payload + "|1|2|3"), "shop", kNow));
  EXPECT_FALSE(
      codec.VerifyWait(Expected("w|shop|42|1|" + std::to_string(kNow + 10) + "|5|6"), "shop", kNow))
      << "a wait token has four fields, or five with its issuer";
  EXPECT_NE(NewSessionId(), 0u);
  EXPECT_NE(NewSessionId(), NewSessionId());
}

// A pass carries the network it was issued to (after the session id); one
// signed before networks (five fields) still decodes, with network 0; a
// six-field pass with network 0 or a non-number is refused.
TEST(TokenTest, PassCarriesItsNetworkAndPassesFromBeforeStillDecode) {
  TokenCodec codec = Codec();
  PassToken t{"shop", kNow - 1000, kNow / 10'000, kNow + 300'000, 77, 4000000000u};
  std::string text = codec.SignPass(t);
  std::string payload = "p|shop|" + std::to_string(kNow - 1000) + "|" +
                        std::to_string(kNow / 10'000) + "|" + std::to_string(kNow + 300'000);
  EXPECT_EQ(text, Expected(payload + "|77|4000000000"));
  for (int i = 0; i < 2; ++i) {  // the second time from the pass cache
    auto pass = codec.VerifyPass(text, "shop", kNow);
    ASSERT_TRUE(pass);
    EXPECT_EQ(pass->session, 77u);
    EXPECT_EQ(pass->network, 4000000000u);
  }
  auto before = codec.VerifyPass(Expected(payload + "|77"), "shop", kNow);
  ASSERT_TRUE(before) << "a pass from before networks is never refused for its format";
  EXPECT_EQ(before->network, 0u);
  EXPECT_FALSE(codec.VerifyPass(Expected(payload + "|77|0"), "shop", kNow));
  EXPECT_FALSE(codec.VerifyPass(Expected(payload + "|77|x"), "shop", kNow));
  EXPECT_FALSE(codec.VerifyPass(Expected(payload + "|77|4294967296"), "shop", kNow)) << "32 bits";
  t.session = 0;
  EXPECT_EQ(codec.SignPass(t), Expected(payload)) << "no network without a session id";
}

// A ticket numbered by a local fallback carries its issuer as a fifth
// field; four fields (every token from before issuers) is issuer 0, the
// store's ticket. Issuer 0 written out, or not a number, is refused. The
// claim's session id tells issuers apart and is unchanged for issuer 0.
TEST(TokenTest, WaitCarriesItsIssuerAndOldWaitsAreTheStores) {
  TokenCodec codec = Codec();
  std::string payload =
      "w|shop|42|" + std::to_string(kNow - 1000) + "|" + std::to_string(kNow + 3'600'000);
  WaitToken local{"shop", 42, kNow - 1000, kNow + 3'600'000, 0x8000000000000005ULL};
  std::string text = codec.SignWait(local);
  EXPECT_EQ(text, Expected(payload + "|9223372036854775813"));
  auto wait = codec.VerifyWait(text, "shop", kNow);
  ASSERT_TRUE(wait);
  EXPECT_EQ(wait->ticket, 42u);
  EXPECT_EQ(wait->issuer, 0x8000000000000005ULL);
  auto store = codec.VerifyWait(Expected(payload), "shop", kNow);
  ASSERT_TRUE(store) << "a wait token from before issuers still decodes";
  EXPECT_EQ(store->issuer, 0u);
  EXPECT_EQ(codec.SignWait(*store), Expected(payload)) << "issuer 0 is written as before";
  EXPECT_FALSE(codec.VerifyWait(Expected(payload + "|0"), "shop", kNow));
  EXPECT_FALSE(codec.VerifyWait(Expected(payload + "|x"), "shop", kNow));
  EXPECT_FALSE(codec.VerifyWait(Expected(payload + "|"), "shop", kNow));
  auto lapsed = codec.VerifyLapsedWait(text, "shop", kNow + 3'600'000, 1000);
  ASSERT_TRUE(lapsed);
  EXPECT_EQ(lapsed->issuer, local.issuer);
  // The same number from two issuers: two sessions; issuer 0 as before
  // (the derivation's label "claim|room|ticket|issued").
  WaitToken other = local;
  other.issuer = 7;
  EXPECT_NE(codec.ClaimSessionId(*wait), codec.ClaimSessionId(*store));
  EXPECT_NE(codec.ClaimSessionId(*wait), codec.ClaimSessionId(other));
  EXPECT_EQ(codec.ClaimSessionId(*wait), codec.ClaimSessionId(local));
}

// The keyed HMAC contexts are pooled: many threads signing and verifying at
// once get exactly the single-threaded answers.
TEST(TokenTest, SignsAndVerifiesFromManyThreadsAtOnce) {
  TokenCodec codec({{"k2", kSecret2}, {"k1", kSecret1}});
  TokenCodec old_codec = Codec();
  std::string reference = codec.SignWait({"shop", 7, kNow, kNow + 1000});
  std::string old_pass = GoodPass(old_codec);
  std::vector<std::thread> threads;
  std::vector<int> failures(8, 0);
  for (size_t t = 0; t < failures.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if (codec.SignWait({"shop", 7, kNow, kNow + 1000}) != reference) ++failures[t];
        if (!codec.VerifyPass(old_pass, "shop", kNow)) ++failures[t];
        if (codec.VerifyPass(reference, "shop", kNow)) ++failures[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

// A cookie is built in one string: the token appended in place after the
// name, byte for byte the token SignWait/SignPass return (which verifies),
// and the attributes after it.
TEST(TokenTest, TokensAppendedInPlaceAreTheSignedTokens) {
  TokenCodec codec = Codec();
  WaitToken wait{"shop", 42, kNow - 1000, kNow + 3'600'000};
  PassToken pass{"shop", kNow - 1000, kNow / 10'000, kNow + 300'000, 987654321};
  std::string cookie = SetCookieWith("tg_wait_shop", false, 60, 10, [&](std::string* out) {
    EXPECT_TRUE(codec.AppendWait(wait, out));
  });
  EXPECT_EQ(cookie, SetCookieValue("tg_wait_shop", codec.SignWait(wait), false, 60));
  std::string token = cookie.substr(13, cookie.find(';') - 13);
  ASSERT_TRUE(codec.VerifyWait(token, "shop", kNow));
  EXPECT_EQ(codec.VerifyWait(token, "shop", kNow)->ticket, 42u);
  std::string prefix = "x=";
  ASSERT_TRUE(codec.AppendPass(pass, &prefix));
  EXPECT_EQ(prefix, "x=" + codec.SignPass(pass));
  std::optional<PassToken> back = codec.VerifyPass(prefix.substr(2), "shop", kNow);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->session, 987654321u);
  // Without a key nothing is appended (never a valid token).
  TokenCodec none({});
  std::string untouched = "x=";
  EXPECT_FALSE(none.AppendWait(wait, &untouched));
  EXPECT_EQ(untouched, "x=");
}

// Found by fuzz_token: a room name longer than the stack body (200 bytes;
// the configuration allows 64) was cut when signing, so a token that
// verified signed again to one that did not.
TEST(TokenTest, ALongRoomNameSignsToATokenThatVerifies) {
  TokenCodec codec = Codec();
  std::string room(200, 'r');
  WaitToken wait{room, 42, kNow - 1000, kNow + 3'600'000};
  auto back = codec.VerifyWait(codec.SignWait(wait), room, kNow);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->room, room);
  EXPECT_EQ(back->ticket, 42u);
  PassToken pass{room, kNow - 1000, kNow / 10'000, kNow + 300'000, 987654321};
  auto again = codec.VerifyPass(codec.SignPass(pass), room, kNow);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->session, 987654321u);
  EXPECT_FALSE(codec.VerifyPass(codec.SignPass(pass), room.substr(0, 128), kNow));
}

}  // namespace
}  // namespace tidegate::queue
