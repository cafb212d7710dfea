// Free loopback port probing.
//
// Contract: FreeLoopbackPort() binds a TCP socket to 127.0.0.1:0, reads the
// port the kernel chose, closes the socket and returns the port (0 on
// failure). The port is free at that instant; a process started right after
// is expected to bind it (tidegate does not support listen port 0). Ports
// handed out by one test binary are never handed out twice, which avoids
// collisions between two probes of one test. Thread-safe.
#pragma once

#include <cstdint>

namespace tidegate::itest {

uint16_t FreeLoopbackPort();

// True when something accepts TCP connections on 127.0.0.1:port right now.
bool PortAccepts(uint16_t port);

}  // namespace tidegate::itest
