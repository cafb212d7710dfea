#include "status/status_template.h"

namespace tidegate::status {

// Self-contained: no external resource, no script; inline style is allowed by
// the page's own Content-Security-Policy (style-src 'unsafe-inline'). Colours
// keep a contrast of at least 4.5:1 (WCAG 2.1 AA), and every status is
// written in words, never shown by colour alone.
const std::string_view kBuiltinStatusTemplate = R"(<!DOCTYPE html>
<html lang="{{lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}}</title>
<link rel="alternate" type="application/atom+xml" href="/.tidegate/status.atom" title="{{title}}">
<style>
body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330;line-height:1.45}
main{max-width:46rem;margin:2.5rem auto;padding:0 1rem;overflow-wrap:anywhere}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}h3{font-size:1.05rem;margin:0 0 .3rem}
.overall{padding:1rem 1.25rem;border-radius:.5rem;font-weight:600;margin:1.5rem 0}
.operational{background:#e3f5e8;color:#135d2b}
.maintenance{background:#e0ecfb;color:#123f73}
.degraded{background:#fff4d6;color:#6b4a00}
.partial_outage{background:#fde2e1;color:#8a1c17}
.major_outage{background:#8a1c17;color:#fff}
ul,ol{list-style:none;padding:0}
.card{background:#fff;border:1px solid #dde1e7;border-radius:.5rem;padding:1rem 1.25rem;margin:.75rem 0}
.meta{color:#4f5767;font-size:.9rem;margin:.2rem 0}
.badge{display:inline-block;padding:0 .45rem;border-radius:.3rem;font-weight:600}
.next{font-weight:600;margin:.5rem 0}
.late{color:#8a1c17}
.timeline{border-left:3px solid #dde1e7;margin:.75rem 0 0;padding-left:1rem}
.timeline li{margin:0 0 .75rem}
.timeline p{margin:.15rem 0}
.components li{display:flex;justify-content:space-between;gap:1rem;background:#fff;border:1px solid #dde1e7;padding:.6rem 1rem;margin:-1px 0 0}
footer{color:#4f5767;font-size:.85rem;margin-top:2rem}
a{color:#0b5cad}
</style>
</head>
<body>
<main>
<h1>{{title}}</h1>
<p class="overall {{status}}" role="status">{{status_text}}</p>
{{#has_open}}
<section aria-labelledby="tg-open">
<h2 id="tg-open">{{open_heading}}</h2>
{{#open}}
<article class="card" id="incident-{{id}}" aria-labelledby="incident-{{id}}-title">
<h3 id="incident-{{id}}-title">{{title}}</h3>
<p class="meta"><span class="badge {{impact}}">{{impact_label}}</span> · {{incident_status}}{{#affected}} · {{affects_label}} {{affected}}{{/affected}}</p>
{{#next_update}}<p class="next{{#late}} late{{/late}}">{{next_update}}</p>{{/next_update}}
<ol class="timeline" aria-label="{{updates_label}}">
{{#updates}}
<li><p class="meta"><time datetime="{{at_iso}}">{{at}}</time> · <strong>{{update_status}}</strong></p><p>{{message}}</p></li>
{{/updates}}
</ol>
</article>
{{/open}}
</section>
{{/has_open}}
{{#has_notices}}
<section aria-labelledby="tg-notices">
<h2 id="tg-notices">{{notices_heading}}</h2>
<ul>
{{#notices}}
<li class="card">
<h3>{{heading}}</h3>
<p>{{message}}</p>
{{#window}}<p class="meta">{{window}}</p>{{/window}}
{{#next_update}}<p class="meta">{{next_update}}</p>{{/next_update}}
</li>
{{/notices}}
</ul>
</section>
{{/has_notices}}
{{#has_components}}
<section aria-labelledby="tg-components">
<h2 id="tg-components">{{components_heading}}</h2>
<ul class="components">
{{#components}}
<li><span>{{name}}</span> <span class="badge {{component_status}}">{{component_label}}</span></li>
{{/components}}
</ul>
</section>
{{/has_components}}
{{#show_history}}
<section aria-labelledby="tg-past">
<h2 id="tg-past">{{past_heading}}</h2>
{{#past}}
<article class="card" id="incident-{{id}}" aria-labelledby="incident-{{id}}-title">
<h3 id="incident-{{id}}-title">{{title}}</h3>
<p class="meta">{{impact_label}} · <time datetime="{{started_iso}}">{{started}}</time> – <time datetime="{{resolved_iso}}">{{resolved}}</time></p>
<p>{{closing_message}}</p>
<details><summary>{{updates_label}}</summary>
<ol class="timeline">
{{#updates}}
<li><p class="meta"><time datetime="{{at_iso}}">{{at}}</time> · <strong>{{update_status}}</strong></p><p>{{message}}</p></li>
{{/updates}}
</ol>
</details>
</article>
{{/past}}
{{^has_past}}<p>{{no_past}}</p>{{/has_past}}
</section>
{{/show_history}}
<footer>{{updated}} · <a href="/.tidegate/status.json">JSON</a> · <a href="/.tidegate/status.atom">Atom</a></footer>
</main>
</body>
</html>
)";

}  // namespace tidegate::status
