// Free loopback port probing.
//
// Contract: FreeLoopbackPort() picks a random port below the kernel's
// ephemeral range (so no outgoing connection of a concurrently running test
// can grab it as its source port), checks that it binds on 127.0.0.1,
// closes the socket and returns it; when there is no room below the range it
// binds port 0 and returns what the kernel chose (0 on failure). The port is free at that instant;
// a process started right after is expected to bind it (tidegate does not support listen port 0).
// Ports handed out by one test binary are never handed out twice, which avoids collisions between
// two probes of one test. Thread-safe.
#pragma once

#include <cstdint>

namespace tidegate::itest {

uint16_t FreeLoopbackPort();

// True when something accepts TCP connections on 127.0.0.1:port right now.
bool PortAccepts(uint16_t port);

}  // namespace tidegate::itest
