// The HTML status page's template data: a StatusStory (status/status_story.h)
// worded in the shopper's language, times in the shop's zone ("14:30 CET").
// The variables are listed in docs/status-page.md ("Own template").
//
// Contract: pure (thread-safe, no I/O).
#pragma once

#include "config/config.h"
#include "pages/language.h"
#include "pages/page_template.h"
#include "status/status_story.h"

namespace tidegate::status {

pages::TemplateData StatusPageData(const config::Config& config, const StatusStory& story,
                                   pages::Language language, common::TimePoint now);

}  // namespace tidegate::status
