// IPv4 and IPv6 networks: one parser for the configuration
// ([rooms.NAME].bypass_ips, [maintenance].bypass_cidrs) and one matcher for
// the client address of a request.
//
// Contract:
// * ParseCidr() runs at configuration time: "10.0.0.0/8", "2001:db8::/32",
//   a bare address ("127.0.0.1" = /32, "::1" = /128). Host bits after the
//   prefix are an error whose message names the network address ("did you
//   mean 10.0.0.0/8?"): a block is never silently widened or moved.
// * ClientAddress::Parse() and InAnyBlock() run per request: pure, thread-
//   safe, no allocation. An IPv4-mapped IPv6 client ("::ffff:10.1.2.3", what
//   a dual-stack listener reports) is compared as the IPv4 address it maps;
//   an unparsable address is in no network.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tidegate::common {

// An IPv4 or IPv6 network, "10.0.0.0/8", "2001:db8::/32", "127.0.0.1" (= /32).
struct CidrBlock {
  std::string text;  // as written
  bool ipv6 = false;
  std::array<uint8_t, 16> bytes{};  // network address (4 bytes used for IPv4), host bits zero
  int prefix_len = 0;
};

// The block `text` denotes, or nullopt with a one-line reason in *error
// (the caller adds file:line:col and the key).
std::optional<CidrBlock> ParseCidr(std::string_view text, std::string* error);

// A client address parsed once, to test against any number of blocks.
class ClientAddress {
 public:
  // nullopt when `text` is not a textual IPv4 or IPv6 address.
  static std::optional<ClientAddress> Parse(std::string_view text);

  // True when the address lies in `block`. An IPv4-mapped IPv6 address is
  // tested as IPv4 against IPv4 blocks and as written against IPv6 blocks
  // (so "::ffff:0:0/96" holds it too).
  bool In(const CidrBlock& block) const;

 private:
  bool has_v4_ = false;  // an IPv4 address, or an IPv4-mapped IPv6 one
  bool has_v6_ = false;
  std::array<uint8_t, 4> v4_{};
  std::array<uint8_t, 16> v6_{};
};

// True when `ip` (the textual peer address) lies in one of `blocks`.
bool InAnyBlock(std::string_view ip, std::span<const CidrBlock> blocks);

}  // namespace tidegate::common
