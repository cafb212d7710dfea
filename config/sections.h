// Internal to config/: one reader per top-level section of the configuration.
//
// Contract: each function reads its section (null when the section is absent)
// into *out, whose fields start at the defaults of config.h, reports every
// problem to `diagnostics` and every unknown key. Single-threaded; blocking
// file checks (certificates, secret files) happen here, at load time only.
#pragma once

#include <toml++/toml.h>

#include "config/config.h"
#include "config/diagnostics.h"

namespace tidegate::config {

void ReadServerSection(const toml::table* table, Diagnostics* diagnostics, ServerConfig* out);
void ReadUpstreamSection(const toml::table* table, Diagnostics* diagnostics, UpstreamConfig* out);
void ReadStateSection(const toml::table* table, Diagnostics* diagnostics, StateConfig* out);
void ReadAdminSection(const toml::table* table, Diagnostics* diagnostics, AdminConfig* out);
void ReadSecretsSection(const toml::table* table, Diagnostics* diagnostics, SecretsConfig* out);
void ReadRoomsSection(const toml::table* table, Diagnostics* diagnostics,
                      std::vector<RoomConfig>* out);
void ReadFeaturesSection(const toml::table* table, Diagnostics* diagnostics,
                         std::vector<FeatureConfig>* out);
void ReadSiteSection(const toml::table* table, Diagnostics* diagnostics, SiteConfig* out);
void ReadMaintenanceSection(const toml::table* table, Diagnostics* diagnostics,
                            MaintenanceConfig* out);
void ReadBannerSection(const toml::table* table, Diagnostics* diagnostics, BannerConfig* out);
// [notify] and its [[notify.webhooks]] (secret files read here).
void ReadNotifySection(const toml::table* table, Diagnostics* diagnostics, NotifyConfig* out);

// Checks that involve several sections (secrets needed by active rooms,
// listeners bound twice). `root` locates errors.
void CheckCrossSection(const toml::table& root, const Config& config, Diagnostics* diagnostics);

// Warnings, not errors (the configuration still loads): a room never used
// because, for certain, an earlier room (in name order, the first match
// wins) takes every path it matches — each of its `match` patterns is a
// plain prefix ("^/sale", config/room_match.h) that starts with a plain
// prefix pattern of an earlier room ("^/"). Patterns that need RE2 are not
// judged (no guess). One line per shadowed room into *warnings.
void CheckRoomShadowing(const toml::table& root, const Config& config,
                        std::vector<std::string>* warnings);

}  // namespace tidegate::config
