// gzip compression (zlib) for the demo shop's compressed responses.
//
// Thread: pure function, safe anywhere.
#ifndef TIDEGATE_DEMO_GZIP_H_
#define TIDEGATE_DEMO_GZIP_H_

#include <optional>
#include <string>
#include <string_view>

namespace tidegate::demo {

// Returns `data` as one gzip member (RFC 1952), or nullopt if zlib fails.
std::optional<std::string> GzipCompress(std::string_view data);

}  // namespace tidegate::demo

#endif  // TIDEGATE_DEMO_GZIP_H_
