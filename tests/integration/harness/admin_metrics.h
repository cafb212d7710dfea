// One sample of a running tidegate's /metrics, read over the admin
// listener (open to loopback without a token, the default).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tidegate::itest {

// The value of the sample line `sample` ("tidegate_name" or
// "tidegate_name{label=\"v\"}"); nullopt when it is absent or /metrics
// did not answer 200.
std::optional<double> ReadMetric(uint16_t admin_port, const std::string& sample);

}  // namespace tidegate::itest
