// The built-in Mustache template of the queue page (queue.html). A merchant
// overrides it with [site].templates_dir/queue.html (pages/page_template.h).
//
// Variables (HTML-escaped unless triple braces): lang, title, heading, intro,
// closed_heading, closed_text, position_label, wait_label, updated_label,
// progress_label, check_again, live_text, shop_name, status_url,
// status_label, room, refresh_seconds, poll_url, challenge_heading,
// challenge_intro, challenge_live, challenge_progress_label,
// challenge_noscript, challenge_done, challenge_fail, challenge_bits,
// refused_heading; sections (one of them is true per page) `queued`,
// `closed` (reject mode), `solving` (the join challenge) and `refused` (a
// refused join). Per-visitor values, filled in after rendering (write them
// exactly like this): {{position}}, {{wait}}, {{updated}}, {{updated_iso}},
// {{progress}}, {{self_url}}, {{challenge}} (the token to solve, in
// `solving`), {{message}} (why, in `refused`), {{notice}} (the open
// incident or the banner in force, as HTML: queue/queue_page_notice.h; its
// classes tg-notice, tg-notice__next, tg-notice__late are styled by the
// page). An override without
// {{challenge}} or {{message}} gets the built-in page for those two.
//
// Rules for an override: no external resources; inline <script> and <style>
// blocks are allowed by the page's Content-Security-Policy through their
// SHA-256 hashes, computed when the template is loaded; the script must not
// contain per-visitor values (read them from data- attributes or the JSON).
// The built-in scripts (one per page: polling on the queue page, the
// proof-of-work solver on the challenge page) mark <main> with
// data-script="on" when they run (the browser tests tell a scripted page
// from a script-less one by it).
#pragma once

namespace tidegate::queue {

extern const char kQueuePageTemplate[];

}  // namespace tidegate::queue
