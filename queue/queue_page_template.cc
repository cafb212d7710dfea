#include "queue/queue_page_template.h"

namespace tidegate::queue {

// Kept small (< 20 KB with the strings): no images, no external CSS or
// fonts, one inline style and one inline script (allowed by hash).
const char kQueuePageTemplate[] = R"TPL(<!DOCTYPE html>
<html lang="{{lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>{{title}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f6f8;color:#1b2733;line-height:1.5}
main{max-width:34rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.5rem;margin-top:0}
dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem}
dt{font-weight:600}dd{margin:0}
progress{width:100%;height:1rem}
.button{display:inline-block;margin-top:1rem;padding:.6rem 1.2rem;background:#0b5cad;color:#fff;border-radius:4px;text-decoration:none}
.button:focus{outline:3px solid #f5a623;outline-offset:2px}
footer{margin-top:1.5rem;font-size:.9rem;color:#4a5a6a}
</style>
</head>
<body>
<main id="tg-queue" data-refresh="{{refresh_seconds}}" data-poll="{{poll_url}}">
{{#shop_name}}<p>{{shop_name}}</p>{{/shop_name}}
{{#closed}}
<h1>{{closed_heading}}</h1>
<p>{{closed_text}}</p>
{{/closed}}
{{^closed}}
<h1>{{heading}}</h1>
<p>{{intro}}</p>
<div id="tg-live" role="status" aria-live="polite">{{live_text}}</div>
<dl>
<dt>{{position_label}}</dt><dd id="tg-position">{{position}}</dd>
<dt>{{wait_label}}</dt><dd id="tg-wait">{{wait}}</dd>
<dt>{{updated_label}}</dt><dd><time id="tg-updated" datetime="{{updated_iso}}">{{updated}}</time></dd>
</dl>
<label for="tg-progress">{{progress_label}}</label>
<progress id="tg-progress" max="100" value="{{progress}}">{{progress}} %</progress>
<a class="button" href="{{self_url}}">{{check_again}}</a>
{{/closed}}
{{#status_url}}<footer><a href="{{status_url}}">{{status_label}}</a></footer>{{/status_url}}
</main>
{{^closed}}
<script>
(function () {
  var main = document.getElementById("tg-queue");
  var refresh = Number(main.getAttribute("data-refresh")) || 5;
  var url = main.getAttribute("data-poll");
  var live = document.getElementById("tg-live");
  main.setAttribute("data-script", "on");
  function set(id, text) {
    var el = document.getElementById(id);
    if (el && text !== undefined && el.textContent !== String(text)) el.textContent = text;
  }
  function later(seconds) { setTimeout(poll, seconds * 1000); }
  function poll() {
    fetch(url, {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (d) {
        if (!d.in_queue) { set("tg-live", d.message || ""); window.location.reload(); return; }
        set("tg-position", d.position === null ? "\u2014" : d.position);
        set("tg-wait", d.wait_text);
        set("tg-updated", d.updated_text);
        var p = document.getElementById("tg-progress");
        if (p && typeof d.progress === "number") p.value = d.progress;
        if (d.message && live.textContent !== d.message) live.textContent = d.message;
        later(d.refresh_seconds || refresh);
      })
      .catch(function () { later(refresh); });
  }
  later(refresh);
})();
</script>
{{/closed}}
</body>
</html>
)TPL";

}  // namespace tidegate::queue
