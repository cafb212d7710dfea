// RAII owners for the C handles of libevent (OpenSSL's SslPtr/SslCtxPtr live
// in proxy/tls_context.h).
//
// Contract: each alias is a std::unique_ptr whose deleter calls the matching
// free function; a null handle is never freed. Handles are not thread-safe:
// free them on the thread that owns their event_base.
#pragma once

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <memory>

namespace tidegate::proxy {

struct EventBaseDeleter {
  void operator()(event_base* p) const { event_base_free(p); }
};
struct EventDeleter {
  void operator()(event* p) const { event_free(p); }
};
struct BuffereventDeleter {
  void operator()(bufferevent* p) const { bufferevent_free(p); }
};
struct EvconnlistenerDeleter {
  void operator()(evconnlistener* p) const { evconnlistener_free(p); }
};
struct EvbufferDeleter {
  void operator()(evbuffer* p) const { evbuffer_free(p); }
};

using EventBasePtr = std::unique_ptr<event_base, EventBaseDeleter>;
using EventPtr = std::unique_ptr<event, EventDeleter>;
using BuffereventPtr = std::unique_ptr<bufferevent, BuffereventDeleter>;
using EvconnlistenerPtr = std::unique_ptr<evconnlistener, EvconnlistenerDeleter>;
using EvbufferPtr = std::unique_ptr<evbuffer, EvbufferDeleter>;

}  // namespace tidegate::proxy
