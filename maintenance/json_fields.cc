#include "maintenance/json_fields.h"

#include <nlohmann/json.hpp>

namespace tidegate::maintenance {
namespace {

using Json = nlohmann::json;

// Tracks the dotted path of the value being read. `frames_` holds, per open
// container, whether it is an array and the path length before its key.
class LeafCollector : public nlohmann::json_sax<Json> {
 public:
  explicit LeafCollector(std::vector<std::pair<std::string, std::string>>* leaves)
      : leaves_(leaves) {}

  bool null() override { return Leaf("null"); }
  bool boolean(bool value) override { return Leaf(value ? "true" : "false"); }
  bool number_integer(number_integer_t value) override { return Leaf(std::to_string(value)); }
  bool number_unsigned(number_unsigned_t value) override { return Leaf(std::to_string(value)); }
  bool number_float(number_float_t value, const string_t&) override {
    return Leaf(Json(value).dump());
  }
  bool string(string_t& value) override { return Leaf(value); }
  bool binary(binary_t&) override { return true; }

  bool start_object(std::size_t) override {
    frames_.push_back(Frame{false, path_.size(), in_array_});
    return true;
  }
  bool key(string_t& key) override {
    path_.resize(frames_.back().base);
    if (frames_.size() > 1) path_.push_back('.');
    path_ += key;
    return true;
  }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override {
    frames_.push_back(Frame{true, path_.size(), in_array_});
    in_array_ = true;
    return true;
  }
  bool end_array() override { return Close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  struct Frame {
    bool array;
    size_t base;
    bool was_in_array;
  };
  bool Leaf(std::string value) {
    if (!in_array_ && !frames_.empty()) leaves_->emplace_back(path_, std::move(value));
    return true;
  }
  bool Close() {
    path_.resize(frames_.back().base);
    in_array_ = frames_.back().was_in_array;
    frames_.pop_back();
    return true;
  }

  std::vector<std::pair<std::string, std::string>>* leaves_;
  std::vector<Frame> frames_;
  std::string path_;
  bool in_array_ = false;
};

}  // namespace

bool CollectJsonLeaves(std::string_view body,
                       std::vector<std::pair<std::string, std::string>>* leaves) {
  LeafCollector collector(leaves);
  return Json::sax_parse(body, &collector, Json::input_format_t::json, /*strict=*/true,
                         /*ignore_comments=*/false);
}

}  // namespace tidegate::maintenance
