#include "maintenance/field_names.h"

#include <charconv>

namespace tidegate::maintenance {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// PHP turns "12" (not "012", not "-0") into the integer key 12.
bool IntegerIndex(std::string_view index, long long* value) {
  if (index.empty() || index.size() > 18 || (index.size() > 1 && index.front() == '0')) {
    return false;
  }
  auto [end, error] = std::from_chars(index.data(), index.data() + index.size(), *value);
  return error == std::errc() && end == index.data() + index.size();
}

}  // namespace

long long* PhpNameReader::NextIndex(const std::string& array) {
  return &next_index_.try_emplace(array, 0).first->second;
}

bool PhpNameReader::Read(std::string_view name, bool multipart, std::string* out) {
  const std::string_view sent = name;
  if (multipart && name.size() >= 2 && name.front() == '\'' && name.back() == '\'') {
    name = name.substr(1, name.size() - 2);  // rfc1867.c reads name='…' too
  } else if (name.find_first_of(std::string_view(" .[\0", 4)) == std::string_view::npos) {
    return false;  // the common case: PHP reads the name as sent
  }
  name = name.substr(0, name.find('\0'));  // PHP's names are C strings
  while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
  out->clear();
  size_t i = 0;
  for (; i < name.size() && name[i] != '['; ++i) {
    out->push_back(name[i] == ' ' || name[i] == '.' ? '_' : name[i]);
  }
  if (out->empty()) return true;  // no base name: PHP drops the field
  for (bool first = true; i < name.size(); first = false) {
    // name[i] == '[': an index, unless it is never closed.
    size_t start = i + 1;
    while (start < name.size() && IsSpace(name[start])) ++start;
    size_t close = name.find(']', start);
    if (close == std::string_view::npos) {
      if (first) {  // not an array after all: the '[' and what follows are kept, mangled
        out->push_back('_');
        for (size_t k = i + 1; k < name.size(); ++k) {
          char c = name[k];
          out->push_back(c == ' ' || c == '.' || c == '[' ? '_' : c);
        }
      }
      break;  // a nested unclosed '[' ends the name
    }
    std::string_view index = name.substr(start, close - start);
    long long number = 0;
    if (index.empty()) {
      long long* next = NextIndex(*out);
      *out += '[' + std::to_string((*next)++) + ']';
    } else {
      if (IntegerIndex(index, &number)) {
        long long* next = NextIndex(*out);
        if (number >= *next) *next = number + 1;
      }
      *out += '[';
      out->append(index);
      *out += ']';
    }
    i = close + 1;
    if (i >= name.size() || name[i] != '[') break;  // trailing bytes are dropped
  }
  return *out != sent;
}

std::string BracketName(std::string_view dotted_path) {
  std::string out;
  size_t segments = 0;
  while (true) {
    size_t dot = dotted_path.find('.');
    std::string_view segment = dotted_path.substr(0, dot);
    if (segment.empty()) return std::string();
    if (segments++ == 0) {
      out.append(segment);
    } else {
      out += '[';
      out.append(segment);
      out += ']';
    }
    if (dot == std::string_view::npos) return out;
    dotted_path.remove_prefix(dot + 1);
  }
}

std::string DottedPathOf(std::string_view bracket_name) {
  size_t open = bracket_name.find('[');
  if (open == 0 || open == std::string_view::npos || bracket_name.back() != ']') return {};
  std::string out(bracket_name.substr(0, open));
  if (out.find_first_of(".]") != std::string::npos) return {};
  std::string_view rest = bracket_name.substr(open);
  while (!rest.empty()) {
    size_t close = rest.find(']');
    if (rest.front() != '[' || close == std::string_view::npos) return {};
    std::string_view segment = rest.substr(1, close - 1);
    if (segment.empty() || segment.find_first_of(".[") != std::string_view::npos) return {};
    out += '.';
    out.append(segment);
    rest.remove_prefix(close + 1);
  }
  return out;
}

}  // namespace tidegate::maintenance
