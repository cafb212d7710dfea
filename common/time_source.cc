#include "common/time_source.h"

namespace tidegate::common {

const TimeSource& SystemTime() {
  // Stateless: a constant, not shared mutable state.
  static const RealTimeSource kSystemTime;
  return kSystemTime;
}

}  // namespace tidegate::common
