// Internal to config/: reading addresses out of TOML nodes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/table_reader.h"
#include "config/value_parsers.h"

namespace tidegate::config {

// One address at `key` of `reader`'s table; nullopt when absent or invalid.
std::optional<Address> ReadAddress(TableReader& reader, std::string_view key,
                                   const AddressRules& rules);

// An array of addresses at `key`; false when absent or any element is invalid.
bool ReadAddressList(TableReader& reader, std::string_view key, const AddressRules& rules,
                     Diagnostics* diagnostics, std::vector<Address>* out);

// An array of IP networks at `key` ("10.0.0.0/8", "2001:db8::/32", a bare
// address), appended to *out; each invalid element is reported at its
// position (`key[i]`) and skipped. Nothing when absent.
void ReadNetworkList(TableReader& reader, std::string_view key, Diagnostics* diagnostics,
                     std::vector<CidrBlock>* out);

}  // namespace tidegate::config
