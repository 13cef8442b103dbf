// binary-trees: SunSpider access-binary-trees ("binary-search" in the TeeMate paper).
// For n = from..to: a stretch tree, many short-lived trees, one long-lived tree of depth
// max(minDepth + 2, n); the answer is the sum of the long-lived trees' item checks.
// Self-check: that sum against the known answer (-4 for the default 4..7), and every
// intermediate check against its closed form (a tree of item i and depth >= 1 checks to i - 1).
// Params: from (4), to (7), minDepth (4), expected (override, to see the check fail).

function TreeNode(left, right, item) {
    this.left = left;
    this.right = right;
    this.item = item;
}

TreeNode.prototype.itemCheck = function () {
    if (this.left === null) return this.item;
    return this.item + this.left.itemCheck() - this.right.itemCheck();
};

function bottomUpTree(item, depth) {
    if (depth > 0)
        return new TreeNode(bottomUpTree(2 * item - 1, depth - 1), bottomUpTree(2 * item, depth - 1), item);
    return new TreeNode(null, null, item);
}

function treesInt(params, name, dflt, lo, hi) {
    var v = params[name] === undefined ? dflt : Number(params[name]);
    if (!(v >= lo && v <= hi && Math.floor(v) === v))
        throw new Error("binary-trees: " + name + " must be an integer " + lo + ".." + hi + ", got " + params[name]);
    return v;
}

function main(params) {
    params = params || {};
    var from = treesInt(params, "from", 4, 1, 16), to = treesInt(params, "to", 7, from, 16);
    var minDepth = treesInt(params, "minDepth", 4, 1, 16);
    var ret = 0, trees = 0, n, depth, i, check, iterations;
    for (n = from; n <= to; n++) {
        var maxDepth = Math.max(minDepth + 2, n);
        check = bottomUpTree(0, maxDepth + 1).itemCheck();
        if (check !== -1) throw new Error("binary-trees: stretch tree of depth " + (maxDepth + 1) + ": expected -1, got " + check);
        var longLived = bottomUpTree(0, maxDepth);
        for (depth = minDepth; depth <= maxDepth; depth += 2) {
            iterations = 1 << (maxDepth - depth + minDepth);
            check = 0;
            for (i = 1; i <= iterations; i++) {
                check += bottomUpTree(i, depth).itemCheck();
                check += bottomUpTree(-i, depth).itemCheck();
            }
            trees += 2 * iterations;
            if (check !== -2 * iterations)
                throw new Error("binary-trees: " + 2 * iterations + " trees of depth " + depth + ": expected " +
                                -2 * iterations + ", got " + check);
        }
        ret += longLived.itemCheck();
    }
    // SunSpider's answer for 4..7 is -4: each long-lived tree checks to -1.
    var expected = params.expected === undefined ? (from === 4 && to === 7 ? -4 : -(to - from + 1)) : Number(params.expected);
    if (ret !== expected) throw new Error("binary-trees: sum of long-lived checks: expected " + expected + ", got " + ret);
    return { check: true, result: ret, expected: expected, from: from, to: to, minDepth: minDepth, trees: trees };
}
