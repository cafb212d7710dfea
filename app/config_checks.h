// The checks start-up makes after the configuration is loaded, done without
// a socket: the page templates of [site].templates_dir parse, the TLS
// certificates and keys load into an SSL_CTX, each log file can be opened
// for append, and [state].path is, or can be made, a folder.
//
// One function for the three callers (audit 10 F2: `--check` and SIGHUP
// accepted what start-up refused): `tidegate --check`, start-up and every
// SIGHUP reload run it through the binary's ConfigSource, so a reload whose
// new log path cannot be opened keeps the running configuration instead of
// saying "restart to apply them" to an operator whose restart would fail.
//
// Contract: control thread (or main() before the server starts); blocking
// file I/O. Creates, truncates and writes nothing: an absent log file is
// checked by its folder (exists, writable), an existing one is opened with
// O_APPEND and closed; an absent state folder by its nearest existing parent.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace tidegate::app {

// Every problem found, each one line: "file:line:col key: message" for a
// key (config::FormatError, the position from Config::positions), or the
// template's own "templates/queue.html:3:7: message". Empty: all usable.
std::vector<std::string> CheckConfigResources(const config::Config& config);

}  // namespace tidegate::app
