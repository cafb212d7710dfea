#include "status/status_template.h"

namespace tidegate::status {

// Self-contained: no external resource, no script; inline style is allowed by
// the page's own Content-Security-Policy (style-src 'unsafe-inline').
const std::string_view kBuiltinStatusTemplate = R"(<!DOCTYPE html>
<html lang="{{lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}}</title>
<link rel="alternate" type="application/atom+xml" href="/.tidegate/status.atom" title="{{title}}">
<style>
body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:42rem;margin:3rem auto;padding:0 1rem}
h1{font-size:1.6rem}
.overall{padding:1rem 1.25rem;border-radius:.5rem;font-weight:600;margin:1.5rem 0}
.operational{background:#e3f5e8;color:#135d2b}
.degraded{background:#fff4d6;color:#6b4a00}
.partial_outage{background:#fde2e1;color:#8a1c17}
ul{list-style:none;padding:0}
li{background:#fff;border:1px solid #dde1e7;border-radius:.5rem;padding:1rem 1.25rem;margin:.75rem 0}
.meta{color:#5a6272;font-size:.9rem;margin:.4rem 0 0}
footer{color:#5a6272;font-size:.85rem;margin-top:2rem}
</style>
</head>
<body>
<main>
<h1>{{title}}</h1>
<p class="overall {{status}}" role="status">{{status_text}}</p>
{{#has_incidents}}
<ul>
{{#incidents}}
<li>
<strong>{{heading}}</strong>
<p>{{message}}</p>
{{#window}}<p class="meta">{{window}}</p>{{/window}}
{{#next_update}}<p class="meta">{{next_update}}</p>{{/next_update}}
</li>
{{/incidents}}
</ul>
{{/has_incidents}}
<footer>{{updated}} · <a href="/.tidegate/status.json">JSON</a> · <a href="/.tidegate/status.atom">Atom</a></footer>
</main>
</body>
</html>
)";

}  // namespace tidegate::status
