// sleep: SeBS 010-sleep. Sleeps params.sleep seconds (default 1) through the host's sleep.
// Self-check: the clock (teemate.now) moved by at least the time asked for.

function main(params) {
    params = params || {};
    var seconds = params.sleep === undefined ? 1 : Number(params.sleep);
    if (!(seconds >= 0 && seconds <= 86400))
        throw new Error("sleep: sleep must be a number of seconds 0..86400, got " + params.sleep);
    var start = teemate.now();
    teemate.sleep(seconds);
    var slept = (teemate.now() - start) / 1000;
    // 1 ms of slack: the clock is read in milliseconds.
    if (!(slept >= seconds - 0.001))
        throw new Error("sleep: expected to sleep at least " + seconds + " s, got " + slept + " s");
    return { check: true, sleep: seconds, slept: slept };
}
