// The built-in router: the one filter that answers every request under
// /.tidegate/ (the proxy's reserved space). Features provide the pages; the
// routes are registered explicitly, in app/filter_chain.cc — no static
// registration.
//
// Dispatch, per request:
// 1. A cheap scan of the raw target's path (before '?' or '#'), no
//    allocation: a path with no '%' and no ".tidegate" (any case) cannot
//    normalise into /.tidegate, so the request continues at once. Nearly
//    all shop traffic stops here, in the factory's AppliesTo(): the stream
//    creates no router filter for it.
// 2. Otherwise the path is normalised once (proxy/path_normalizer.h: ";params"
//    stripped, escapes of unreserved characters decoded, `//`, `.` and `..`
//    resolved). A path that is not "/.tidegate" or below it (compared
//    ignoring case) continues.
// 3. The route table: the first route whose path equals the normalised path
//    (ignoring case, or exactly for a PathCase::kExact route) is the one.
//    A method the route does not list in its `allow` (every route: "GET,
//    HEAD") is answered here with 405 and that `Allow` field (RFC 9110
//    §15.5.6; audit 19 F11), the page never asked. Otherwise the router
//    creates the page's per-request filter from the handler factory and runs
//    its OnRequestHeaders. It answers now (SendLocalReply, kStop) or later
//    (kStop, asynchronous: the router keeps it until the exchange ends and
//    forwards OnDestroy to it); kContinue means "not for this request" and
//    the router answers 404.
// 4. Every other path under /.tidegate → 404 (JSON when the client asks for
//    JSON; Cache-Control: no-store; Answerer::kBuiltin; the 405 of step 3
//    is written the same way). A /.tidegate request never reaches the
//    origin nor the later filters.
//
// Contract: the factory is filled on the control thread while the chain is
// built, then immutable and shared by the workers (AppliesTo and
// CreateFilter are thread-safe). It owns the handlers (shared with whoever else holds them).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/filter.h"

namespace tidegate::proxy {

enum class PathCase {
  kIgnore,  // ASCII case-insensitive (most pages)
  kExact,   // byte for byte (the banner's stylesheet, as it always was)
};

struct BuiltinRoute {
  std::string path;  // a normalised path under /.tidegate/, e.g. "/.tidegate/health"
  PathCase path_case = PathCase::kIgnore;
  std::shared_ptr<const FilterFactory> handler;  // never null
  // The methods the page serves, as the 405's Allow field ("GET, HEAD":
  // comma-separated, exact, case-sensitive tokens, RFC 9110 §9.1).
  std::string allow;
};

inline constexpr std::string_view kBuiltinAllowDefault = "GET, HEAD";

// True when `method` is one of the comma-separated tokens of `allow`
// (compared exactly: methods are case-sensitive). Allocates nothing.
bool AllowsMethod(std::string_view allow, std::string_view method);

// Step 1 above: false when `target` cannot address /.tidegate. Allocates
// nothing; any thread.
bool MayBeBuiltinTarget(std::string_view target);
// True when `target` addresses /.tidegate or below (steps 1 and 2; normalises
// only when step 1 cannot rule it out). Any thread.
bool IsBuiltinTarget(std::string_view target);

class BuiltinRouterFactory : public FilterFactory {
 public:
  // Control thread, while the chain is built. Routes are tried in the order
  // added; a later route with the same path is never reached.
  void Add(std::string path, PathCase path_case, std::shared_ptr<const FilterFactory> handler,
           std::string_view allow = kBuiltinAllowDefault);

  // Step 1: false for a target that cannot address /.tidegate (the shop's
  // paths), so the stream creates no router filter for them.
  bool AppliesTo(const RequestHead& head) const override;
  std::unique_ptr<StreamFilter> CreateFilter(FilterCallbacks& callbacks) const override;

  // The route for a normalised (not lower-cased) path, or nullptr.
  const BuiltinRoute* Find(std::string_view normalized_path) const;
  const std::vector<BuiltinRoute>& routes() const { return routes_; }

 private:
  std::vector<BuiltinRoute> routes_;
};

}  // namespace tidegate::proxy
