/**
 * The HTML of `/docs`: one self-contained page (no external assets: the machines may be offline)
 * that renders the OpenAPI document in the browser. Its script is plain ES5 in a string, built
 * here from one constant per part of the page.
 */

/** The API reference page for the OpenAPI document `doc` (JSON text). */
export function docsPage(title: string, doc: string): string {
  return (
    pageHead(title) +
    pageHeader(title) +
    `<script type="application/json" id="spec">${scriptSafe(doc)}</script>\n` +
    pageScript()
  );
}

/** JSON inside <script>: `<` escaped so no text in the document can close the element. */
const scriptSafe = (json: string) => json.replace(/</g, "\\u003c").replace(/\u2028|\u2029/g, "");

function pageHead(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} reference</title>
<style>
${STYLE}</style>
</head>
`;
}

/** The server, auth and token controls, and the empty navigation and operation panes. */
function pageHeader(title: string): string {
  return `<body>
<header>
  <h1>${title}</h1>
  <label style="width:auto">Server <select id="server"></select></label>
  <label style="width:auto">Auth scheme <select id="scheme"><option value="Bearer">Bearer (buyer)</option><option value="Tessera-Theater">Tessera-Theater (theatre)</option></select></label>
  <label style="flex:1;min-width:240px">Token <input id="token" type="password" autocomplete="off" placeholder="paste a token (a theatre token is bound to one method and path)"></label>
  <a href="/openapi.json">openapi.json</a>
</header>
<main>
  <nav id="nav" aria-label="Operations"></nav>
  <div id="ops"><p>Loading…</p></div>
</main>
`;
}

/** The browser side: reads the document, lists the operations by tag, and sends "try it" calls. */
function pageScript(): string {
  return `<script>
(function () {
  "use strict";
${DOM_HELPERS}${SCHEMA_VIEWS}${OPERATION_INDEX}${OPERATION_VIEW}${TRY_IT}})();
</script>
</body>
</html>`;
}

const STYLE = `:root{--fg:#1b1f24;--muted:#59636e;--line:#d1d9e0;--bg2:#f6f8fa;--acc:#0969da}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg)}
header{padding:16px 24px;border-bottom:1px solid var(--line);display:flex;flex-wrap:wrap;gap:12px;align-items:center}
header h1{font-size:20px;margin:0 16px 0 0}
main{display:grid;grid-template-columns:260px 1fr;min-height:calc(100vh - 70px)}
nav{border-right:1px solid var(--line);padding:12px;overflow:auto;max-height:calc(100vh - 70px);position:sticky;top:0}
nav h2{font-size:13px;text-transform:uppercase;color:var(--muted);margin:16px 0 4px}
nav a{display:block;color:var(--fg);text-decoration:none;padding:2px 4px;border-radius:4px;font-size:13px}
nav a:hover,nav a:focus{background:var(--bg2)}
#ops{padding:16px 24px;max-width:1100px}
section.op{border:1px solid var(--line);border-radius:8px;margin:0 0 16px}
section.op>h3{margin:0;padding:8px 12px;background:var(--bg2);font-size:15px;display:flex;gap:8px;align-items:center;border-radius:8px 8px 0 0}
.m{font:600 12px ui-monospace,monospace;padding:2px 6px;border-radius:4px;color:#fff;min-width:56px;text-align:center}
.get{background:#1a7f37}.post{background:#0969da}.patch{background:#9a6700}.delete{background:#cf222e}.put{background:#8250df}
.body{padding:8px 12px}
code,pre,textarea,input,select{font:13px ui-monospace,SFMono-Regular,Menlo,monospace}
pre{background:var(--bg2);padding:8px;border-radius:6px;overflow:auto;max-height:320px}
table{border-collapse:collapse;width:100%;font-size:13px}
td,th{border-bottom:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}
.muted{color:var(--muted)}
ul.schema{margin:2px 0 2px 16px;padding:0;list-style:none;font-size:13px}
.req{color:#cf222e}
details{margin:6px 0}
summary{cursor:pointer;font-weight:600}
label{display:block;margin:4px 0;font-size:13px}
input,select,textarea{border:1px solid var(--line);border-radius:6px;padding:4px 6px;width:100%}
textarea{min-height:120px}
button{font:inherit;border:1px solid var(--acc);background:var(--acc);color:#fff;border-radius:6px;padding:4px 12px;cursor:pointer}
button.secondary{background:#fff;color:var(--acc)}
.row{display:flex;gap:8px;align-items:end}
.row>*{flex:1}
@media (max-width:800px){main{grid-template-columns:1fr}nav{position:static;max-height:none;border-right:0}}
`;

/** The parsed document, and element building and schema naming for everything below. */
const DOM_HELPERS = `  var doc = JSON.parse(document.getElementById("spec").textContent);
  var comps = (doc.components && doc.components.schemas) || {};
  var respComps = (doc.components && doc.components.responses) || {};
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === "text") e.textContent = attrs[k]; else if (k === "cls") e.className = attrs[k]; else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }
  function deref(s) {
    var seen = 0;
    while (s && s.$ref && seen++ < 20) s = comps[s.$ref.split("/").pop()] || {};
    return s || {};
  }
  function typeOf(s) {
    var name = s && s.$ref ? s.$ref.split("/").pop() : "";
    var d = deref(s);
    var t = d.type || (d.enum ? "enum" : d.anyOf ? "anyOf" : d.oneOf ? "oneOf" : d.allOf ? "allOf" : "object");
    if (Array.isArray(t)) t = t.join(" | ");
    if (t === "array" && d.items) t = "array of " + typeOf(d.items);
    if (d.enum) t += " (" + d.enum.map(function (v) { return JSON.stringify(v); }).join(", ") + ")";
    if (d.const !== undefined) t = JSON.stringify(d.const);
    return name ? name + ": " + t : t;
  }
`;

/** A schema as a nested list of its fields, and an example value to start a request body from. */
const SCHEMA_VIEWS = `  function schemaTree(s, depth) {
    var d = deref(s);
    var ul = el("ul", { cls: "schema" });
    if (depth > 5) return ul;
    if (d.type === "array" && d.items) return schemaTree(d.items, depth + 1);
    var variants = d.anyOf || d.oneOf || d.allOf;
    if (variants) {
      variants.forEach(function (v, i) {
        var li = el("li", null, [el("span", { cls: "muted", text: (d.allOf ? "all of " : "variant ") + (i + 1) + ": " + typeOf(v) })]);
        li.appendChild(schemaTree(v, depth + 1));
        ul.appendChild(li);
      });
      return ul;
    }
    var props = d.properties || {};
    var req = d.required || [];
    Object.keys(props).forEach(function (k) {
      var p = props[k];
      var pd = deref(p);
      var li = el("li", null, [
        el("code", { text: k }), req.indexOf(k) >= 0 ? el("span", { cls: "req", text: " *" }) : null,
        el("span", { cls: "muted", text: " " + typeOf(p) }),
        pd.description || p.description ? el("div", { cls: "muted", text: p.description || pd.description }) : null
      ]);
      var inner = pd.type === "array" ? deref(pd.items) : pd;
      if (inner.properties || inner.anyOf || inner.oneOf || inner.allOf) li.appendChild(schemaTree(pd, depth + 1));
      ul.appendChild(li);
    });
    return ul;
  }
  function example(s, depth) {
    var d = deref(s);
    if (depth > 6) return null;
    if (d.example !== undefined) return d.example;
    if (d.default !== undefined) return d.default;
    if (d.const !== undefined) return d.const;
    if (d.enum) return d.enum[0];
    var v = d.anyOf || d.oneOf;
    if (v) return example(v[0], depth + 1);
    if (d.allOf) return example(d.allOf[0], depth + 1);
    var t = Array.isArray(d.type) ? d.type[0] : d.type;
    if (t === "object" || d.properties) {
      var o = {};
      (d.required || Object.keys(d.properties || {})).forEach(function (k) {
        if (d.properties && d.properties[k]) o[k] = example(d.properties[k], depth + 1);
      });
      return o;
    }
    if (t === "array") return [example(d.items || {}, depth + 1)];
    if (t === "integer" || t === "number") return d.minimum !== undefined ? d.minimum : 0;
    if (t === "boolean") return false;
    if (d.format === "date-time") return new Date().toISOString();
    return "";
  }
`;

/** The server choice, then every operation grouped by its first tag, in the nav and the page. */
const OPERATION_INDEX = `  var servers = doc.servers && doc.servers.length ? doc.servers : [{ url: location.origin }];
  var serverSel = document.getElementById("server");
  [{ url: location.origin, description: "this server" }].concat(servers).forEach(function (s) {
    serverSel.appendChild(el("option", { value: s.url, text: s.url + (s.description ? " (" + s.description + ")" : "") }));
  });
  var byTag = {};
  Object.keys(doc.paths || {}).forEach(function (path) {
    var item = doc.paths[path];
    ["get", "post", "put", "patch", "delete"].forEach(function (m) {
      var op = item[m];
      if (!op) return;
      var tag = (op.tags && op.tags[0]) || "Other";
      (byTag[tag] = byTag[tag] || []).push({ path: path, method: m, op: op, params: (item.parameters || []).concat(op.parameters || []) });
    });
  });
  var nav = document.getElementById("nav");
  var ops = document.getElementById("ops");
  ops.textContent = "";
  var n = 0;
  Object.keys(byTag).sort().forEach(function (tag) {
    nav.appendChild(el("h2", { text: tag }));
    ops.appendChild(el("h2", { text: tag }));
    byTag[tag].forEach(function (o) {
      var id = "op" + n++;
      nav.appendChild(el("a", { href: "#" + id, text: o.method.toUpperCase() + " " + o.path }));
      ops.appendChild(operation(id, o));
    });
  });
`;

/** One operation: its parameters, request body and responses. */
const OPERATION_VIEW = `  function operation(id, o) {
    var op = o.op;
    var sec = el("section", { cls: "op", id: id });
    sec.appendChild(el("h3", null, [el("span", { cls: "m " + o.method, text: o.method.toUpperCase() }), el("code", { text: o.path }), el("span", { cls: "muted", text: op.summary || "" })]));
    var body = el("div", { cls: "body" });
    if (op.description) body.appendChild(el("p", { text: op.description }));
    if (op.security && op.security.length) {
      body.appendChild(el("p", { cls: "muted", text: "Auth: " + op.security.map(function (s) { var k = Object.keys(s); return k.length ? k.join(" + ") : "none"; }).join(" or ") }));
    }
    if (o.params.length) {
      var t = el("table", null, [el("tr", null, [el("th", { text: "Parameter" }), el("th", { text: "In" }), el("th", { text: "Type" }), el("th", { text: "Description" })])]);
      o.params.forEach(function (p) {
        t.appendChild(el("tr", null, [el("td", null, [el("code", { text: p.name }), p.required ? el("span", { cls: "req", text: " *" }) : null]), el("td", { text: p.in }), el("td", { text: typeOf(p.schema || {}) }), el("td", { text: p.description || (p.schema && p.schema.description) || "" })]));
      });
      body.appendChild(t);
    }
    var reqSchema = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"] && op.requestBody.content["application/json"].schema;
    if (reqSchema) {
      var d1 = el("details", null, [el("summary", { text: "Request body: " + typeOf(reqSchema) })]);
      d1.appendChild(schemaTree(reqSchema, 0));
      body.appendChild(d1);
    }
    Object.keys(op.responses || {}).forEach(function (st) {
      var r = op.responses[st];
      if (r.$ref) r = respComps[r.$ref.split("/").pop()] || {};
      var ct = r.content && Object.keys(r.content)[0];
      var sch = ct && r.content[ct].schema;
      var d2 = el("details", null, [el("summary", { text: st + " " + (r.description || "") + (ct ? " (" + ct + ")" : "") })]);
      if (sch) d2.appendChild(schemaTree(sch, 0));
      body.appendChild(d2);
    });
    body.appendChild(tryIt(o, reqSchema));
    sec.appendChild(body);
    return sec;
  }
`;

/** The "try it" form of one operation, which calls the chosen server with the token given. */
const TRY_IT = `  function tryIt(o, reqSchema) {
    var d = el("details", null, [el("summary", { text: "Try it" })]);
    var form = el("form");
    var inputs = [];
    o.params.forEach(function (p) {
      var input = el("input", { name: p.name, placeholder: p.in + (p.required ? " (required)" : "") });
      if (p.name === "idempotency-key") input.value = crypto.randomUUID();
      inputs.push({ p: p, input: input });
      form.appendChild(el("label", null, [p.name + " (" + p.in + ")", input]));
    });
    var ta = null;
    if (reqSchema) {
      ta = el("textarea", { name: "body", spellcheck: "false" });
      ta.value = JSON.stringify(example(reqSchema, 0), null, 2);
      form.appendChild(el("label", null, ["JSON body", ta]));
    }
    var out = el("pre", { text: "" });
    var btn = el("button", { type: "submit", text: "Send" });
    form.appendChild(el("div", { cls: "row" }, [btn]));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var path = o.path, query = new URLSearchParams(), headers = {};
      inputs.forEach(function (x) {
        var v = x.input.value;
        if (!v) return;
        if (x.p.in === "path") path = path.replace("{" + x.p.name + "}", encodeURIComponent(v));
        else if (x.p.in === "query") query.set(x.p.name, v);
        else if (x.p.in === "header") headers[x.p.name] = v;
      });
      var token = document.getElementById("token").value.trim();
      if (token) headers.authorization = document.getElementById("scheme").value + " " + token;
      var init = { method: o.method.toUpperCase(), headers: headers };
      if (ta && ta.value.trim()) { headers["content-type"] = "application/json"; init.body = ta.value; }
      var qs = query.toString();
      var url = serverSel.value.replace(/\\/+$/, "") + path + (qs ? "?" + qs : "");
      out.textContent = init.method + " " + url + "\\n…";
      fetch(url, init).then(function (r) {
        return r.text().then(function (text) {
          var shown = text;
          try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) {}
          var hs = [];
          r.headers.forEach(function (v, k) { hs.push(k + ": " + v); });
          out.textContent = r.status + " " + r.statusText + "\\n" + hs.join("\\n") + "\\n\\n" + shown.slice(0, 200000);
        });
      }).catch(function (e) { out.textContent = "network error: " + e; });
    });
    d.appendChild(form);
    d.appendChild(out);
    return d;
  }
`;
