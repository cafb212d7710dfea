#include "tests/integration/harness/webdriver.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "tests/integration/harness/connection.h"
#include "tests/integration/harness/http_reader.h"
#include "tests/integration/harness/ports.h"

namespace tidegate::itest {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// The W3C element reference key.
constexpr char kElementKey[] = "element-6066-11e4-a52e-4f735466cecf";

WebDriverReply Exchange(uint16_t port, const std::string& method, const std::string& path,
                        const Json& body, milliseconds timeout) {
  WebDriverReply reply;
  std::string error;
  std::unique_ptr<RawConnection> conn = RawConnection::Connect(port, &error);
  if (!conn) {
    reply.error = "connect to chromedriver: " + error;
    return reply;
  }
  std::string payload = method == "POST" ? body.dump() : "";
  std::string request = method + " " + path +
                        " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                        "\r\nConnection: close\r\n";
  if (method == "POST") {
    request += "Content-Type: application/json; charset=utf-8\r\nContent-Length: " +
               std::to_string(payload.size()) + "\r\n";
  }
  request += "\r\n" + payload;
  if (!conn->Send(request)) {
    reply.error = "send to chromedriver failed";
    return reply;
  }
  HttpMessage m = ReadResponse(*conn, Within(timeout));
  if (!m.ok) {
    reply.error = "chromedriver answer: " + m.error;
    return reply;
  }
  reply.http_status = m.status;
  Json j = Json::parse(m.body, nullptr, false);
  if (!j.is_object() || !j.contains("value")) {
    reply.error = "chromedriver answered no JSON value: " + Printable(m.body, 500);
    return reply;
  }
  reply.value = j["value"];
  if (m.status != 200) {
    const Json& v = reply.value;
    reply.error = (v.is_object() ? v.value("error", std::string("error")) : "error") + ": " +
                  (v.is_object() ? v.value("message", std::string()) : v.dump());
    return reply;
  }
  reply.ok = true;
  return reply;
}

bool Ready(uint16_t port) {
  WebDriverReply r = Exchange(port, "GET", "/status", Json::object(), milliseconds(2000));
  return r.ok && r.value.is_object() && r.value.value("ready", false);
}

}  // namespace

std::unique_ptr<ChromeDriver> ChromeDriver::Start(const TempDir& dir, std::string* error) {
  for (const char* binary : {kChromiumBinary, kChromedriverBinary}) {
    if (access(binary, X_OK) != 0) {
      *error = std::string(binary) +
               " is missing: apt-get install chromium chromium-driver (scripts/setup.sh)";
      return nullptr;
    }
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::unique_ptr<ChromeDriver> driver(new ChromeDriver());
    driver->dir_ = &dir;
    driver->port_ = FreeLoopbackPort();
    ProcessOptions po;
    po.argv = {kChromedriverBinary, "--port=" + std::to_string(driver->port_),
               "--log-path=" + dir.File("chromedriver.log")};
    po.log_dir = dir.path();
    po.name = "chromedriver";
    driver->process_ = Process::Start(po, error);
    if (!driver->process_) return nullptr;
    auto deadline = steady_clock::now() + milliseconds(20000);
    while (steady_clock::now() < deadline && driver->process_->Running()) {
      if (Ready(driver->port_)) return driver;
      std::this_thread::sleep_for(milliseconds(50));
    }
    *error = "chromedriver did not become ready on port " + std::to_string(driver->port_) +
             "; stderr:\n" + driver->process_->Stderr() + "\nstdout:\n" +
             driver->process_->Stdout();
    if (driver->process_->Running()) return nullptr;  // alive but never ready: no retry
  }
  return nullptr;
}

ChromeDriver::~ChromeDriver() {
  if (!process_ || !process_->Running()) return;
  Command("GET", "/shutdown", Json::object(), milliseconds(10000));
  process_->WaitExit(milliseconds(10000));
}

std::string ChromeDriver::NewProfileDir() {
  return dir_->File("chrome-profile-" + std::to_string(++profiles_));
}

WebDriverReply ChromeDriver::Command(const std::string& method, const std::string& path,
                                     const Json& body, milliseconds timeout) {
  return Exchange(port_, method, path, body, timeout);
}

std::unique_ptr<ChromeDriver> StartChromeDriverOrFail(const TempDir& dir) {
  std::string error;
  auto driver = ChromeDriver::Start(dir, &error);
  if (!driver) ADD_FAILURE() << "cannot start chromedriver: " << error;
  return driver;
}

std::unique_ptr<WebDriverSession> WebDriverSession::Create(ChromeDriver& driver,
                                                           const SessionOptions& options,
                                                           std::string* error) {
  std::string profile = driver.NewProfileDir();
  Json chrome = {
      {"binary", kChromiumBinary},
      {"args",
       {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--user-data-dir=" + profile, "--no-first-run", "--no-default-browser-check",
        "--disable-extensions", "--disable-background-networking", "--disable-sync",
        "--disable-component-update", "--disable-features=Translate,MediaRouter",
        "--password-store=basic", "--lang=" + options.accept_language}},
  };
  if (options.viewport_width > 0) {
    chrome["mobileEmulation"] = {
        {"deviceMetrics",
         {{"width", options.viewport_width},
          {"height", options.viewport_height > 0 ? options.viewport_height : 800},
          {"pixelRatio", 1},
          {"mobile", false},
          {"touch", false}}}};
  }
  Json prefs = {{"intl.accept_languages", options.accept_language}};
  if (!options.javascript) prefs["profile.managed_default_content_settings.javascript"] = 2;
  chrome["prefs"] = prefs;
  Json caps = {{"capabilities",
                {{"alwaysMatch",
                  {{"browserName", "chrome"},
                   {"pageLoadStrategy", "normal"},
                   {"timeouts", {{"pageLoad", 30000}, {"script", 10000}, {"implicit", 0}}},
                   {"goog:chromeOptions", chrome}}}}}};
  WebDriverReply r = driver.Command("POST", "/session", caps, milliseconds(60000));
  if (!r.ok || !r.value.is_object() || !r.value.contains("sessionId")) {
    *error = "new session: " + (r.ok ? r.value.dump() : r.error) +
             "\n(chromedriver log: " + driver.dir().File("chromedriver.log") + ")";
    return nullptr;
  }
  return std::unique_ptr<WebDriverSession>(
      new WebDriverSession(driver, r.value["sessionId"].get<std::string>()));
}

WebDriverSession::~WebDriverSession() {
  driver_.Command("DELETE", "/session/" + id_, Json::object(), milliseconds(20000));
}

std::optional<Json> WebDriverSession::Run(const std::string& method, const std::string& path,
                                          const Json& body) {
  WebDriverReply r = driver_.Command(method, "/session/" + id_ + path, body);
  if (!r.ok) {
    last_error_ = method + " " + path + ": " + r.error;
    return std::nullopt;
  }
  return r.value;
}

bool WebDriverSession::Navigate(const std::string& url) {
  return Run("POST", "/url", {{"url", url}}).has_value();
}

namespace {
std::optional<std::string> AsString(const std::optional<Json>& v) {
  if (!v) return std::nullopt;
  if (v->is_null()) return std::string();
  if (!v->is_string()) return v->dump();
  return v->get<std::string>();
}
}  // namespace

std::optional<std::string> WebDriverSession::CurrentUrl() { return AsString(Run("GET", "/url")); }

std::optional<std::string> WebDriverSession::Title() { return AsString(Run("GET", "/title")); }

std::optional<std::string> WebDriverSession::PageSource() {
  return AsString(Run("GET", "/source"));
}

std::optional<std::string> WebDriverSession::FindElement(const std::string& css) {
  std::optional<Json> v = Run("POST", "/element", {{"using", "css selector"}, {"value", css}});
  if (!v || !v->is_object() || !v->contains(kElementKey)) return std::nullopt;
  return (*v)[kElementKey].get<std::string>();
}

std::optional<std::string> WebDriverSession::ElementText(const std::string& element) {
  return AsString(Run("GET", "/element/" + element + "/text"));
}

std::optional<std::string> WebDriverSession::ElementAttribute(const std::string& element,
                                                              const std::string& name) {
  return AsString(Run("GET", "/element/" + element + "/attribute/" + name));
}

bool WebDriverSession::Click(const std::string& element) {
  return Run("POST", "/element/" + element + "/click").has_value();
}

std::optional<Json> WebDriverSession::ExecuteScript(const std::string& script, const Json& args) {
  return Run("POST", "/execute/sync", {{"script", script}, {"args", args}});
}

std::optional<std::string> WebDriverSession::TextOf(const std::string& css) {
  std::optional<std::string> element = FindElement(css);
  if (!element) return std::nullopt;
  return ElementText(*element);
}

std::optional<std::string> WebDriverSession::AttributeOf(const std::string& css,
                                                         const std::string& name) {
  std::optional<std::string> element = FindElement(css);
  if (!element) return std::nullopt;
  return ElementAttribute(*element, name);
}

std::unique_ptr<WebDriverSession> CreateSessionOrFail(ChromeDriver& driver,
                                                      const SessionOptions& options) {
  std::string error;
  auto session = WebDriverSession::Create(driver, options, &error);
  if (!session) ADD_FAILURE() << "cannot open a browser session: " << error;
  return session;
}

}  // namespace tidegate::itest
