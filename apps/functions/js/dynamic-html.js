// dynamic-html: SeBS 110-dynamic-html. random_len numbers Math.round(Math.random() * 100), the
// time and a user name rendered through a mustache template with mustache.js, which the runtime
// loads before this file (global Mustache).
// Self-check: the page holds "Welcome <username>!", "Data generated at: <time>!" (both as
// mustache escapes them) and one <li> per number, the same numbers in the same order.
// Params: random_len (10; the paper used 10, 1000, 100000), username ("testname"),
// template (replaces the page's template), max_html (65536: a longer page is not returned).

var DYNAMIC_HTML_TEMPLATE = [
    "<!DOCTYPE html>",
    "<html>",
    "  <head>",
    "    <title>Randomly generated data.</title>",
    "    <meta charset=\"utf-8\">",
    "  </head>",
    "  <body>",
    "    <h1>Welcome {{username}}!</h1>",
    "    <h2>Data generated at: {{cur_time}}!</h2>",
    "    <h3>Requested random numbers:</h3>",
    "    <ul>",
    "{{#random_numbers}}",
    "<li>{{.}}</li>",
    "{{/random_numbers}}",
    "    </ul>",
    "  </body>",
    "</html>",
    ""
].join("\n");

// The escapes mustache.js 3.x applies to {{name}}, written out again to check its output.
function dynamicHtmlEscape(s) {
    var map = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;", "/": "&#x2F;",
                "`": "&#x60;", "=": "&#x3D;" };
    return String(s).replace(/[&<>"'`=\/]/g, function (c) { return map[c]; });
}

function main(params) {
    params = params || {};
    if (typeof Mustache !== "object" || typeof Mustache.render !== "function")
        throw new Error("dynamic-html: the global Mustache is missing: the runtime must load mustache.js first");
    var len = params.random_len === undefined ? 10 : Number(params.random_len);
    if (!(len >= 0 && len <= 1000000 && Math.floor(len) === len))
        throw new Error("dynamic-html: random_len must be an integer 0..1000000, got " + params.random_len);
    var username = params.username === undefined ? "testname" : String(params.username);
    var maxHtml = params.max_html === undefined ? 65536 : Number(params.max_html);
    var template = params.template === undefined ? DYNAMIC_HTML_TEMPLATE : String(params.template);
    var numbers = [], i;
    for (i = 0; i < len; i++) numbers.push(Math.round(Math.random() * 100));
    var curTime = new Date(teemate.now()).toISOString();
    var html = Mustache.render(template, { username: username, cur_time: curTime, random_numbers: numbers });

    var want = ["Welcome " + dynamicHtmlEscape(username) + "!", "Data generated at: " + dynamicHtmlEscape(curTime) + "!"];
    for (i = 0; i < want.length; i++)
        if (html.indexOf(want[i]) < 0)
            throw new Error("dynamic-html: expected the page to contain \"" + want[i] + "\", got a page without it");
    var items = html.match(/<li>[^<]*<\/li>/g) || [];
    if (items.length !== len)
        throw new Error("dynamic-html: expected " + len + " <li> items, got " + items.length);
    for (i = 0; i < len; i++)
        if (items[i] !== "<li>" + numbers[i] + "</li>")
            throw new Error("dynamic-html: item " + i + ": expected <li>" + numbers[i] + "</li>, got " + items[i]);
    return { check: true, random_len: len, username: username, cur_time: curTime, bytes: html.length,
             mustache: Mustache.version, html: html.length <= maxHtml ? html : null };
}
