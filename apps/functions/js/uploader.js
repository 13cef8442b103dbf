// uploader: SeBS 120-uploader. Downloads params.url (teemate.httpGet), stores the body in the
// object store (teemate.storePut), and returns bucket, key, url, size and the SHA-256 computed
// in the enclave (teemate.sha256).
// Self-check: the runtime's SHA-256 gives FIPS 180-2's digest of "abc"; the object read back
// (teemate.storeGet) is the body downloaded and hashes to the same digest.
// Params: url (required), bucket ("uploads"), key (default: the URL's file name + "." + 8
// random hex digits, so two uploads of one URL do not overwrite each other).

var UPLOADER_SHA256_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

// Bytes of the body as UTF-8: the size of a text body as the server sent it.
function uploaderUtf8Length(s) {
    var n = 0, i, c;
    for (i = 0; i < s.length; i++) {
        c = s.charCodeAt(i);
        if (c < 0x80) n += 1;
        else if (c < 0x800) n += 2;
        else if (c > 0xffff) n += 4;   // Duktape: a character past U+FFFF is one codepoint
        else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length &&
                 s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) < 0xe000) { n += 4; i++; }
        else n += 3;
    }
    return n;
}

// The last path segment of the URL, kept to characters safe in an object name.
function uploaderBaseName(url) {
    var path = url.replace(/[?#].*$/, "").replace(/^[a-z]+:\/\/[^\/]*/i, "");
    var name = path.substr(path.lastIndexOf("/") + 1).replace(/[^A-Za-z0-9._-]/g, "_");
    if (name === "") name = "index";
    if (name.charAt(0) === ".") name = "_" + name;
    return name;
}

function main(params) {
    params = params || {};
    if (typeof params.url !== "string" || !/^https?:\/\/[^\/\s]+/i.test(params.url))
        throw new Error("uploader: url must be an http:// or https:// URL, got " + JSON.stringify(params.url));
    var url = params.url, bucket = params.bucket === undefined ? "uploads" : String(params.bucket);
    var key = params.key;
    if (key === undefined) {
        key = uploaderBaseName(url) + ".";
        for (var i = 0; i < 8; i++) key += Math.floor(Math.random() * 16).toString(16);
    }
    key = String(key);
    var abc = teemate.sha256("abc");
    if (abc !== UPLOADER_SHA256_ABC)
        throw new Error("uploader: sha256(\"abc\"): expected " + UPLOADER_SHA256_ABC + ", got " + abc);

    var body = teemate.httpGet(url);
    if (typeof body !== "string") throw new Error("uploader: httpGet: expected a string body, got " + typeof body);
    var sha = teemate.sha256(body);
    teemate.storePut(bucket, key, body);
    var back = teemate.storeGet(bucket, key);
    if (back !== body)
        throw new Error("uploader: object " + bucket + "/" + key + ": expected the " + body.length +
                        " characters downloaded back, got " + String(back).length + " characters differing");
    var backSha = teemate.sha256(back);
    if (backSha !== sha) throw new Error("uploader: sha256 of the stored object: expected " + sha + ", got " + backSha);
    return { check: true, bucket: bucket, key: key, url: url, size: uploaderUtf8Length(body), sha256: sha };
}
