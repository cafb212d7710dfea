#include "queue/queue_page_template.h"

namespace tidegate::queue {

// Kept small (< 20 KB with the strings): no images, no external CSS or
// fonts, one inline style and one inline script (allowed by hash). The
// script polls on the queue page and solves the join challenge on the
// challenge page (its worker is built from a Blob of its own code).
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
main{max-width:34rem;margin:3rem auto;padding:2rem;overflow-wrap:anywhere;background:#fff;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.5rem;margin-top:0}
dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem}
dt{font-weight:600}dd{margin:0}
progress{width:100%;height:1rem}
.button{display:inline-block;margin-top:1rem;padding:.6rem 1.2rem;background:#0b5cad;color:#fff;border-radius:4px;text-decoration:none}
.button:focus{outline:3px solid #f5a623;outline-offset:2px}
footer{margin-top:1.5rem;font-size:.9rem;color:#4a5a6a}
.tg-notice{border-left:4px solid #b45309;background:#fff8eb;padding:.5rem 1rem;margin:0 0 1.25rem}
.tg-notice p{margin:.2rem 0}.tg-notice a{color:#0b5cad}.tg-notice__late{color:#8a1c17;font-weight:600}
</style>
</head>
<body>
<main id="tg-queue" data-refresh="{{refresh_seconds}}" data-poll="{{poll_url}}"{{#solving}} data-challenge="{{challenge}}" data-bits="{{challenge_bits}}" data-done="{{challenge_done}}" data-fail="{{challenge_fail}}"{{/solving}}>
{{#shop_name}}<p>{{shop_name}}</p>{{/shop_name}}
<div id="tg-notice">{{notice}}</div>
{{#closed}}
<h1>{{closed_heading}}</h1>
<p>{{closed_text}}</p>
{{/closed}}
{{#solving}}
<h1>{{challenge_heading}}</h1>
<p>{{challenge_intro}}</p>
<div id="tg-live" role="status" aria-live="polite">{{challenge_live}}</div>
<label for="tg-progress">{{challenge_progress_label}}</label>
<progress id="tg-progress" max="100" value="0">0 %</progress>
<noscript><p id="tg-noscript">{{challenge_noscript}}</p></noscript>
{{/solving}}
{{#refused}}
<h1>{{refused_heading}}</h1>
<div id="tg-live" role="status" aria-live="polite">{{message}}</div>
<a class="button" href="{{self_url}}">{{check_again}}</a>
{{/refused}}
{{#queued}}
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
{{/queued}}
{{#status_url}}<footer><a href="{{status_url}}">{{status_label}}</a></footer>{{/status_url}}
</main>
{{#queued}}
<script>
(function () {
  var main = document.getElementById("tg-queue");
  var refresh = Number(main.getAttribute("data-refresh")) || 5;
  var url = main.getAttribute("data-poll");
  var live = document.getElementById("tg-live");
  main.setAttribute("data-script", "on");
  try { window.sessionStorage.removeItem("tg-pow-tries"); } catch (e) {}
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
        /* The bar never moves back: a longer estimate holds it still. */
        if (p && typeof d.progress === "number" && d.progress > p.value) p.value = d.progress;
        if (d.message && live.textContent !== d.message) live.textContent = d.message;
        var notice = document.getElementById("tg-notice");
        if (notice && d.shop_notice !== undefined) {
          var html = d.shop_notice ? d.shop_notice.html : "";
          if (notice.getAttribute("data-html") !== html && notice.innerHTML !== html) {
            notice.innerHTML = html;
          }
          notice.setAttribute("data-html", html);
        }
        later(d.refresh_seconds || refresh);
      })
      .catch(function () { later(refresh); });
  }
  later(refresh);
})();
</script>
{{/queued}}
{{#solving}}
<script>
(function () {
  var main = document.getElementById("tg-queue");
  var live = document.getElementById("tg-live");
  main.setAttribute("data-script", "on");
  var store = null;
  try { store = window.sessionStorage; } catch (e) {}
  /* join_challenge = "pow" (docs/waiting-room.md): find n such that
     SHA-256(challenge + "." + n) starts with `bits` zero bits, in a worker,
     then repeat this request with the answer and reload (the answer's reply
     sets the wait or pass cookie). */
  function solve(token) {
    var bits = Number(main.getAttribute("data-bits")) || 0;
    var bar = document.getElementById("tg-progress");
    var tries = store ? Number(store.getItem("tg-pow-tries")) || 0 : 0;
    function fail() { live.textContent = main.getAttribute("data-fail"); }
    if (tries >= 3) { fail(); return; }
    if (store) store.setItem("tg-pow-tries", String(tries + 1));
    var worker;
    try {
      var code = "(" + pow.toString() + ")()";
      worker = new Worker(URL.createObjectURL(new Blob([code], {type: "text/javascript"})));
    } catch (e) { fail(); return; }
    worker.onerror = fail;
    worker.onmessage = function (e) {
      if (e.data.progress !== undefined) { if (bar) bar.value = e.data.progress; return; }
      if (bar) bar.value = 100;
      live.textContent = main.getAttribute("data-done");
      fetch(window.location.href, {credentials: "same-origin", cache: "no-store",
                                   headers: {"Tidegate-Challenge": token + "." + e.data.counter}})
        .then(function () { window.location.reload(); }, fail);
    };
    worker.postMessage({token: token, bits: bits});
  }

  /* Runs in the worker: SHA-256 (FIPS 180-4) on the bytes of the answer, the
     whole 64-byte blocks of "challenge." hashed once. */
  function pow() {
    var K = [0x428a2f98,0x71374491,0xb5c0fbcf,0xe9b5dba5,0x3956c25b,0x59f111f1,0x923f82a4,0xab1c5ed5,0xd807aa98,0x12835b01,0x243185be,0x550c7dc3,0x72be5d74,0x80deb1fe,0x9bdc06a7,0xc19bf174,0xe49b69c1,0xefbe4786,0x0fc19dc6,0x240ca1cc,0x2de92c6f,0x4a7484aa,0x5cb0a9dc,0x76f988da,0x983e5152,0xa831c66d,0xb00327c8,0xbf597fc7,0xc6e00bf3,0xd5a79147,0x06ca6351,0x14292967,0x27b70a85,0x2e1b2138,0x4d2c6dfc,0x53380d13,0x650a7354,0x766a0abb,0x81c2c92e,0x92722c85,0xa2bfe8a1,0xa81a664b,0xc24b8b70,0xc76c51a3,0xd192e819,0xd6990624,0xf40e3585,0x106aa070,0x19a4c116,0x1e376c08,0x2748774c,0x34b0bcb5,0x391c0cb3,0x4ed8aa4a,0x5b9cca4f,0x682e6ff3,0x748f82ee,0x78a5636f,0x84c87814,0x8cc70208,0x90befffa,0xa4506ceb,0xbef9a3f7,0xc67178f2];
    var W = new Int32Array(64);
    function round(H, m, o) {
      var a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7], i, x, y;
      for (i = 0; i < 16; i++) W[i] = m[o + 4 * i] << 24 | m[o + 4 * i + 1] << 16 | m[o + 4 * i + 2] << 8 | m[o + 4 * i + 3];
      for (i = 16; i < 64; i++) {
        x = W[i - 15]; y = W[i - 2];
        W[i] = W[i - 16] + ((x >>> 7 | x << 25) ^ (x >>> 18 | x << 14) ^ (x >>> 3)) + W[i - 7] +
               ((y >>> 17 | y << 15) ^ (y >>> 19 | y << 13) ^ (y >>> 10)) | 0;
      }
      for (i = 0; i < 64; i++) {
        x = h + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) + (e & f ^ ~e & g) + K[i] + W[i] | 0;
        y = ((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) + (a & b ^ a & c ^ b & c) | 0;
        h = g; g = f; f = e; e = d + x | 0; d = c; c = b; b = a; a = x + y | 0;
      }
      H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
    }
    onmessage = function (msg) {
      var prefix = new TextEncoder().encode(msg.data.token + "."), bits = msg.data.bits;
      var start = new Int32Array([0x6a09e667,0xbb67ae85,0x3c6ef372,0xa54ff53a,0x510e527f,0x9b05688c,0x1f83d9ab,0x5be0cd19]);
      var whole = prefix.length - prefix.length % 64, o, n, i;
      for (o = 0; o < whole; o += 64) round(start, prefix, o);
      var rest = prefix.subarray(whole), buf = new Uint8Array(128), H = new Int32Array(8);
      var expected = Math.pow(2, bits), mask = bits >= 32 ? -1 : ~(-1 >>> bits);
      var digits = [48], at = rest.length, end = 0;
      function lay() {  /* the counter's digits, padding and length, after a carry */
        var len = at + digits.length, total = (whole + len) * 8;
        end = len + 9 <= 64 ? 64 : 128;
        buf.fill(0);
        buf.set(rest);
        for (i = 0; i < digits.length; i++) buf[at + i] = digits[i];
        buf[len] = 0x80;
        buf[end - 4] = total >>> 24; buf[end - 3] = total >>> 16 & 255; buf[end - 2] = total >>> 8 & 255; buf[end - 1] = total & 255;
      }
      lay();
      for (n = 0; ; n++) {
        H.set(start);
        round(H, buf, 0);
        if (end === 128) round(H, buf, 64);
        if ((H[0] & mask) === 0 && (bits <= 32 || H[1] >>> (64 - bits) === 0)) { postMessage({counter: String.fromCharCode.apply(null, digits)}); return; }
        if ((n & 8191) === 0) postMessage({progress: Math.min(99, Math.floor(100 * (1 - Math.exp(-n / expected))))});
        for (i = digits.length - 1; i >= 0 && digits[i] === 57; i--) buf[at + i] = digits[i] = 48;
        if (i < 0) { digits.unshift(49); lay(); } else { digits[i]++; buf[at + i] = digits[i]; }
      }
    };
  }
  solve(main.getAttribute("data-challenge"));
})();
</script>
{{/solving}}
</body>
</html>
)TPL";

}  // namespace tidegate::queue
