#include "config/address_list.h"

namespace tidegate::config {

std::optional<Address> ReadAddress(TableReader& reader, std::string_view key,
                                   const AddressRules& rules) {
  std::string text;
  if (!reader.ReadString(key, &text)) return std::nullopt;
  std::string error;
  std::optional<Address> address = ParseAddress(text, rules, &error);
  if (!address) reader.Error(*reader.table()->get(key), key, "\"" + text + "\": " + error);
  return address;
}

bool ReadAddressList(TableReader& reader, std::string_view key, const AddressRules& rules,
                     Diagnostics* diagnostics, std::vector<Address>* out) {
  const toml::array* array = reader.ReadArray(key);
  if (!array) return false;
  std::vector<Address> addresses;
  bool ok = true;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    std::string element_path = reader.KeyPath(key) + "[" + std::to_string(i) + "]";
    const auto* text = element.as_string();
    if (!text) {
      diagnostics->Add(element, element_path,
                       "expected an address string, got " + TypeName(element));
      ok = false;
      continue;
    }
    std::string error;
    std::optional<Address> address = ParseAddress(text->get(), rules, &error);
    if (!address) {
      diagnostics->Add(element, element_path, "\"" + text->get() + "\": " + error);
      ok = false;
      continue;
    }
    addresses.push_back(std::move(*address));
  }
  if (ok) *out = std::move(addresses);
  return ok;
}

void ReadNetworkList(TableReader& reader, std::string_view key, Diagnostics* diagnostics,
                     std::vector<CidrBlock>* out) {
  std::vector<std::string> texts;
  if (!reader.ReadStringArray(key, &texts)) return;
  const toml::array& array = *reader.table()->get(key)->as_array();
  for (size_t i = 0; i < texts.size(); ++i) {
    std::string error;
    if (std::optional<CidrBlock> block = common::ParseCidr(texts[i], &error)) {
      out->push_back(std::move(*block));
    } else {
      diagnostics->Add(*array.get(i), reader.KeyPath(key) + "[" + std::to_string(i) + "]", error);
    }
  }
}

}  // namespace tidegate::config
