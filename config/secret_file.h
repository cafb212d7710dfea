// Internal to config/: secrets read from the files the configuration names
// ([secrets].token_keys secret_file, [rooms.NAME] bypass_secret_file,
// [[notify.webhooks]] secret_file, [state] redis_password_file and
// sentinel_password_file). Blocking; load time only.
#pragma once

#include <optional>
#include <string>

namespace tidegate::config {

// The bytes of the file at `path` (resolved by the caller, ResolvePath),
// without the line ends that close it: every trailing '\n' and '\r' is
// dropped ("key\n", "key\r\n", "key\n\n" → "key"), nothing else (spaces, a
// line end inside, leading bytes are the secret's). Nullopt with the reason
// in *error when the file cannot be read (as ReadWholeFile). An empty result
// is returned as is: each caller applies its own minimum size.
std::optional<std::string> ReadSecretFile(const std::string& path, std::string* error);

}  // namespace tidegate::config
