// validate-input: SunSpider string-validate-input's workload: random e-mail addresses and ZIP
// codes checked with regular expressions. Each input is made valid or broken on purpose (one of
// several known defects) with Math.random, and the generator records which it made.
// Self-check: the regexes accept exactly the inputs made valid (counts and each input).
// Params: emails (4000), zips (4000), valid_ratio (0.5), email_pattern and zip_pattern (regex
// sources replacing the validators, e.g. to see the check catch a lax one).

var VALID_EMAIL = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,6}$/;
var VALID_ZIP = /^\d{5}(-\d{4})?$/;
var VI_LOWER = "abcdefghijklmnopqrstuvwxyz", VI_DIGITS = "0123456789";

function viPick(chars, min, max) {
    var n = min + Math.floor(Math.random() * (max - min + 1)), s = "", i;
    for (i = 0; i < n; i++) s += chars.charAt(Math.floor(Math.random() * chars.length));
    return s;
}

function viEmail(valid) {
    var local = viPick(VI_LOWER + VI_DIGITS + "._-", 1, 12);
    var domain = viPick(VI_LOWER + VI_DIGITS, 1, 10);
    if (Math.random() < 0.3) domain += "." + viPick(VI_LOWER + VI_DIGITS, 1, 8);
    var tld = viPick(VI_LOWER, 2, 6);
    if (valid) return local + "@" + domain + "." + tld;
    switch (Math.floor(Math.random() * 6)) {
    case 0: return local + domain + "." + tld;                       // no @
    case 1: return local + "@" + local + "@" + domain + "." + tld;   // two @
    case 2: return local + "@" + domain + "." + viPick(VI_LOWER, 1, 1); // one-letter TLD
    case 3: return "@" + domain + "." + tld;                         // empty local part
    case 4: return local + viPick(" ,;()<>", 1, 1) + local + "@" + domain + "." + tld;
    default: return local + "@" + domain + ".." + tld;               // empty label
    }
}

function viZip(valid) {
    var five = viPick(VI_DIGITS, 5, 5);
    if (valid) return Math.random() < 0.5 ? five : five + "-" + viPick(VI_DIGITS, 4, 4);
    switch (Math.floor(Math.random() * 5)) {
    case 0: return viPick(VI_DIGITS, 4, 4);
    case 1: return viPick(VI_DIGITS, 6, 6);
    case 2: return five.substr(0, 2) + viPick(VI_LOWER, 1, 1) + five.substr(3);
    case 3: return five + "-" + viPick(VI_DIGITS, 3, 3);
    default: return five + " " + viPick(VI_DIGITS, 4, 4);
    }
}

// Makes `total` inputs, validates them, and checks the validator against the generator.
function viRun(what, total, ratio, make, re) {
    var made = 0, accepted = 0, i, valid, s, ok;
    for (i = 0; i < total; i++) {
        valid = Math.random() < ratio;
        s = make(valid);
        ok = re.test(s);
        if (valid) made++;
        if (ok) accepted++;
        if (ok !== valid)
            throw new Error("validate-input: " + what + " \"" + s + "\": expected " + (valid ? "valid" : "invalid") +
                            ", got " + (ok ? "valid" : "invalid"));
    }
    if (accepted !== made)
        throw new Error("validate-input: " + what + "s: expected " + made + " valid, got " + accepted);
    return { total: total, valid: accepted, invalid: total - accepted };
}

function viInt(params, name, dflt) {
    var v = params[name] === undefined ? dflt : Number(params[name]);
    if (!(v >= 0 && v <= 1000000 && Math.floor(v) === v))
        throw new Error("validate-input: " + name + " must be an integer 0..1000000, got " + params[name]);
    return v;
}

function main(params) {
    params = params || {};
    var ratio = params.valid_ratio === undefined ? 0.5 : Number(params.valid_ratio);
    if (!(ratio >= 0 && ratio <= 1)) throw new Error("validate-input: valid_ratio must be 0..1, got " + params.valid_ratio);
    var email = params.email_pattern === undefined ? VALID_EMAIL : new RegExp(String(params.email_pattern));
    var zip = params.zip_pattern === undefined ? VALID_ZIP : new RegExp(String(params.zip_pattern));
    return { check: true, valid_ratio: ratio,
             emails: viRun("e-mail address", viInt(params, "emails", 4000), ratio, viEmail, email),
             zips: viRun("ZIP code", viInt(params, "zips", 4000), ratio, viZip, zip) };
}
