// A FilterCallbacks for filter unit tests: records the local reply (status,
// headers, body, who answered) instead of sending it, and whether the
// response was aborted.
//
// Contract: test thread only; `info` and `worker_context` are the stream's
// and worker's as the filter sees them (tests set them before the call).
#pragma once

#include <string>

#include "proxy/filter.h"

namespace tidegate::proxy::testing {

class FakeFilterCallbacks : public FilterCallbacks {
 public:
  void SendLocalReply(int status, HeaderList headers, std::string body,
                      Answerer answered_by) override {
    replied = true;
    this->answered_by = answered_by;
    this->status = status;
    this->headers = std::move(headers);
    this->body = std::move(body);
  }
  void ContinueRequest() override {}
  void AbortResponse() override { aborted = true; }
  const StreamInfo& stream_info() const override { return info; }
  const WorkerContext& worker() const override { return worker_context; }

  StreamInfo info;
  WorkerContext worker_context;
  Answerer answered_by = Answerer::kCount;
  bool replied = false;
  bool aborted = false;  // AbortResponse() was called
  int status = 0;
  HeaderList headers;
  std::string body;
};

}  // namespace tidegate::proxy::testing
