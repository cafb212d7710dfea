// Is a client address inside one of the [maintenance].bypass_cidrs networks?
//
// Contract: pure function, thread-safe, no allocation. `ip` is the textual
// address of the connection's peer ("10.1.2.3", "::1"); an IPv4-mapped IPv6
// address ("::ffff:10.1.2.3") is compared as IPv4. An unparsable address is
// in no network.
#pragma once

#include <string_view>
#include <vector>

#include "config/config.h"

namespace tidegate::maintenance {

bool AddressInBlocks(std::string_view ip, const std::vector<config::CidrBlock>& blocks);

}  // namespace tidegate::maintenance
