// Rise/fall counting of active health checks for one origin server (HAProxy's
// rise/fall): `fall` failed checks in a row take a healthy server out,
// `rise` passed checks in a row bring it back.
//
// Contract: pure logic, one thread at a time (the upstream monitor's). A
// server starts healthy, so traffic flows before the first check ends.
#pragma once

#include <cstdint>

namespace tidegate::proxy {

class HealthTally {
 public:
  HealthTally(uint32_t rise, uint32_t fall) : rise_(rise), fall_(fall) {}

  // Counts one check; true when healthy() changed.
  bool Record(bool passed) {
    if (passed) {
      failures_ = 0;
      if (!healthy_ && ++passes_ >= rise_) {
        healthy_ = true;
        passes_ = 0;
        return true;
      }
      return false;
    }
    passes_ = 0;
    if (healthy_ && ++failures_ >= fall_) {
      healthy_ = false;
      failures_ = 0;
      return true;
    }
    return false;
  }

  bool healthy() const { return healthy_; }

 private:
  uint32_t rise_;
  uint32_t fall_;
  uint32_t passes_ = 0;
  uint32_t failures_ = 0;
  bool healthy_ = true;
};

}  // namespace tidegate::proxy
