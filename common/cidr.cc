#include "common/cidr.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace tidegate::common {
namespace {

// inet_pton needs a terminated string; addresses are short.
bool ToBytes(int family, std::string_view text, uint8_t* out) {
  char buffer[INET6_ADDRSTRLEN];
  if (text.empty() || text.size() >= sizeof buffer) return false;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  return inet_pton(family, buffer, out) == 1;
}

bool PrefixEquals(const uint8_t* a, const uint8_t* b, int bits) {
  int whole = bits / 8;
  if (std::memcmp(a, b, static_cast<size_t>(whole)) != 0) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

std::string Quoted(std::string_view text) {
  std::string out = "\"";
  out.append(text);
  out += '"';
  return out;
}

}  // namespace

std::optional<CidrBlock> ParseCidr(std::string_view text, std::string* error) {
  CidrBlock block;
  block.text = std::string(text);
  size_t slash = text.find('/');
  std::string_view address = text.substr(0, slash);
  int max_len = 32;
  if (ToBytes(AF_INET, address, block.bytes.data())) {
    max_len = 32;
  } else if (ToBytes(AF_INET6, address, block.bytes.data())) {
    block.ipv6 = true;
    max_len = 128;
  } else {
    *error = Quoted(text) +
             " is not an IP address or network such as \"10.0.0.0/8\", \"2001:db8::/32\" or "
             "\"::1\"";
    return std::nullopt;
  }
  block.prefix_len = max_len;
  if (slash != std::string_view::npos) {
    std::string_view len = text.substr(slash + 1);
    int value = -1;
    auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), value);
    if (len.empty() || len.size() > 3 || len[0] == '-' || len[0] == '+' || ec != std::errc() ||
        end != len.data() + len.size() || value > max_len) {
      *error = Quoted(text) + ": the prefix length must be 0-" + std::to_string(max_len);
      return std::nullopt;
    }
    block.prefix_len = value;
  }
  std::array<uint8_t, 16> network = block.bytes;
  for (int bit = block.prefix_len; bit < max_len; ++bit) {
    network[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  if (network != block.bytes) {
    char shown[INET6_ADDRSTRLEN] = "";
    inet_ntop(block.ipv6 ? AF_INET6 : AF_INET, network.data(), shown, sizeof shown);
    std::string suggestion = std::string(shown) + "/" + std::to_string(block.prefix_len);
    *error = Quoted(text) + " has host bits set after /" + std::to_string(block.prefix_len) +
             "; did you mean " + Quoted(suggestion) + "?";
    return std::nullopt;
  }
  return block;
}

std::optional<ClientAddress> ClientAddress::Parse(std::string_view text) {
  ClientAddress a;
  if (ToBytes(AF_INET, text, a.v4_.data())) {
    a.has_v4_ = true;
    return a;
  }
  if (!ToBytes(AF_INET6, text, a.v6_.data())) return std::nullopt;
  a.has_v6_ = true;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a.v6_.data(), kMapped, sizeof kMapped) == 0) {
    std::memcpy(a.v4_.data(), a.v6_.data() + 12, 4);
    a.has_v4_ = true;
  }
  return a;
}

bool ClientAddress::In(const CidrBlock& block) const {
  if (block.ipv6) return has_v6_ && PrefixEquals(v6_.data(), block.bytes.data(), block.prefix_len);
  return has_v4_ && PrefixEquals(v4_.data(), block.bytes.data(), block.prefix_len);
}

bool InAnyBlock(std::string_view ip, std::span<const CidrBlock> blocks) {
  if (blocks.empty()) return false;
  std::optional<ClientAddress> address = ClientAddress::Parse(ip);
  if (!address) return false;
  for (const CidrBlock& block : blocks) {
    if (address->In(block)) return true;
  }
  return false;
}

}  // namespace tidegate::common
