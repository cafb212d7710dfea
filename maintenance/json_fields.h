// The leaf values of a JSON body, by dotted path, for `json = {...}` rules.
//
// Read with nlohmann::json's SAX parser (strict RFC 8259: no comments, no
// trailing bytes, valid UTF-8; iterative, so deep nesting costs no stack).
// Every scalar reached through objects only is recorded as (path, text):
// `{"payment": {"method": "invoice", "n": 2}}` gives ("payment.method",
// "invoice") and ("payment.n", "2"). Strings give their decoded value;
// numbers, booleans and null their JSON text ("2", "true", "null").
// Values inside arrays are not recorded (a dotted path does not reach them).
// A key given twice is recorded twice: origins disagree on which one wins,
// so a rule matches either.
//
// Contract: pure function, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tidegate::maintenance {

// False (and *leaves partly filled) when `body` is not one valid JSON text.
bool CollectJsonLeaves(std::string_view body,
                       std::vector<std::pair<std::string, std::string>>* leaves);

}  // namespace tidegate::maintenance
