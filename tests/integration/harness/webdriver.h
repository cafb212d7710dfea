// A small W3C WebDriver client for browser tests: starts Debian's
// chromedriver (/usr/bin/chromedriver) on a probed free loopback port and
// drives headless Chromium (/usr/bin/chromium) through it, one JSON command
// per HTTP/1.1 request (Connection: close, http_reader.h parses answers).
//
// Contract:
// * ChromeDriver::Start() runs `chromedriver --port=N` with its logs in
//   dir (chromedriver.stdout / .stderr, chromedriver.log) and waits (up to
//   20 s) until GET /status answers ready. nullptr + *error when the
//   binaries are missing or it never becomes ready. The destructor asks
//   chromedriver to shut down (GET /shutdown, which quits the browsers it
//   still has), waits up to 10 s, then kills and reaps it (Process).
//   Delete the sessions first (their destructors do).
// * WebDriverSession::Create() opens a session: headless (--headless=new),
//   --no-sandbox (tests run as root in containers, where Chromium's sandbox
//   cannot start), --disable-gpu, --disable-dev-shm-usage (small /dev/shm),
//   a fresh user-data-dir under dir, page-load timeout 30 s, and JavaScript
//   disabled for the page when options.javascript is false (content setting
//   prefs). The destructor deletes the session (closes the browser).
// * Every command blocks the calling thread for at most its deadline (60 s
//   for a command; navigation is bounded by the page-load timeout). A
//   failed command returns false / nullopt and sets last_error() to the
//   WebDriver error and message (or the transport error). Never throws.
// * Test thread only; one session is used by one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "tests/integration/harness/process.h"
#include "tests/integration/harness/temp_dir.h"

namespace tidegate::itest {

inline constexpr char kChromiumBinary[] = "/usr/bin/chromium";
inline constexpr char kChromedriverBinary[] = "/usr/bin/chromedriver";

// The answer of one WebDriver command: ok with its "value", or the error.
struct WebDriverReply {
  bool ok = false;
  int http_status = 0;
  nlohmann::json value;  // the "value" member of the answer
  std::string error;     // "<error>: <message>" or the transport error
};

class ChromeDriver {
 public:
  static std::unique_ptr<ChromeDriver> Start(const TempDir& dir, std::string* error);
  ~ChromeDriver();
  ChromeDriver(const ChromeDriver&) = delete;
  ChromeDriver& operator=(const ChromeDriver&) = delete;
  uint16_t port() const { return port_; }
  const TempDir& dir() const { return *dir_; }
  Process& process() { return *process_; }
  // A fresh browser profile directory under dir() for the next session.
  std::string NewProfileDir();
  // Sends one command (body ignored for GET and DELETE).
  WebDriverReply Command(const std::string& method, const std::string& path,
                         const nlohmann::json& body = nlohmann::json::object(),
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(60000));

 private:
  ChromeDriver() = default;
  const TempDir* dir_ = nullptr;
  std::unique_ptr<Process> process_;
  uint16_t port_ = 0;
  int profiles_ = 0;
};

// Starts chromedriver or records a gtest failure and returns nullptr.
std::unique_ptr<ChromeDriver> StartChromeDriverOrFail(const TempDir& dir);

struct SessionOptions {
  bool javascript = true;
  std::string accept_language = "en-US";  // the browser's Accept-Language
  // A viewport of this many CSS px (a phone's width: a desktop window
  // cannot be made narrower than about 500 px), through Chrome's device
  // emulation as a desktop browser (no 980 px layout viewport); 0 = default.
  int viewport_width = 0;
  int viewport_height = 0;
};

class WebDriverSession {
 public:
  // `driver` must outlive the session.
  static std::unique_ptr<WebDriverSession> Create(ChromeDriver& driver,
                                                  const SessionOptions& options,
                                                  std::string* error);
  ~WebDriverSession();
  WebDriverSession(const WebDriverSession&) = delete;
  WebDriverSession& operator=(const WebDriverSession&) = delete;

  bool Navigate(const std::string& url);
  std::optional<std::string> CurrentUrl();
  std::optional<std::string> Title();
  std::optional<std::string> PageSource();
  // The element id of the first match of a CSS selector (nullopt when none).
  std::optional<std::string> FindElement(const std::string& css);
  std::optional<std::string> ElementText(const std::string& element);
  // nullopt on error; a JSON null (absent attribute) gives "".
  std::optional<std::string> ElementAttribute(const std::string& element, const std::string& name);
  bool Click(const std::string& element);
  // Runs `script` as a function body (W3C "execute/sync"); its return value.
  std::optional<nlohmann::json> ExecuteScript(const std::string& script,
                                              const nlohmann::json& args = nlohmann::json::array());

  // Shorthands: FindElement + ElementText / ElementAttribute.
  std::optional<std::string> TextOf(const std::string& css);
  std::optional<std::string> AttributeOf(const std::string& css, const std::string& name);

  const std::string& last_error() const { return last_error_; }
  const std::string& id() const { return id_; }

 private:
  WebDriverSession(ChromeDriver& driver, std::string id) : driver_(driver), id_(std::move(id)) {}
  std::optional<nlohmann::json> Run(const std::string& method, const std::string& path,
                                    const nlohmann::json& body = nlohmann::json::object());

  ChromeDriver& driver_;
  std::string id_;
  std::string last_error_;
};

// Creates a session or records a gtest failure and returns nullptr.
std::unique_ptr<WebDriverSession> CreateSessionOrFail(ChromeDriver& driver,
                                                      const SessionOptions& options = {});

}  // namespace tidegate::itest
