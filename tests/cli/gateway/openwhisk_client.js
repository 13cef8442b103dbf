// Drives teemate gateway with the unmodified npm `openwhisk` client:
// node openwhisk_client.js APIHOST KEY MODE. One line per check.
const openwhisk = require('openwhisk');
const [apihost, api_key, mode] = process.argv.slice(2);
const ow = openwhisk({ apihost, api_key });
const name = 'npm-' + mode + '-' + process.pid;
const line = (ok, what, detail) => console.log((ok ? 'ok - ' : 'not ok - ') + what + ' (npm openwhisk, ' + mode + ')' +
                                               (ok || detail === undefined ? '' : ': ' + JSON.stringify(detail)));
const code = 'function main(params) { console.log("for", params.who); return { hello: params.who }; }';

(async () => {
  const created = await ow.actions.create({ name, action: code, annotations: { 'teemate-mode': mode } });
  line(created.name === name && created.exec.kind === 'nodejs:default', 'actions.create', created);
  const list = await ow.actions.list();
  line(list.some(a => a.name === name), 'actions.list', list.map(a => a.name));
  const got = await ow.actions.get({ name });
  line(got.exec.code === code, 'actions.get');
  const result = await ow.actions.invoke({ name, blocking: true, result: true, params: { who: 'npm' } });
  line(result.hello === 'npm', 'actions.invoke blocking result', result);
  const full = await ow.actions.invoke({ name, blocking: true, params: { who: 'full' } });
  line(full.response.success && full.response.result.hello === 'full' && full.logs.length === 1,
       'actions.invoke blocking activation', full);
  const nb = await ow.actions.invoke({ name, params: { who: 'later' } });
  line(/^[0-9a-f]{32}$/.test(nb.activationId), 'actions.invoke non-blocking', nb);
  let act;
  for (let i = 0; i < 600 && !act; i++) {   // until its worker has run it (at most 60 s)
    try { act = await ow.activations.get({ name: nb.activationId }); }
    catch (e) { if (e.statusCode !== 404) throw e; await new Promise(r => setTimeout(r, 100)); }
  }
  line(act && act.activationId === nb.activationId && act.response.result.hello === 'later', 'activations.get', act);
  const res = await ow.activations.result({ name: nb.activationId });
  line(res.result && res.result.hello === 'later', 'activations.result', res);
  const acts = await ow.activations.list({ limit: 5 });
  line(acts.some(a => a.activationId === nb.activationId), 'activations.list');
  await ow.actions.delete({ name });
  try { await ow.actions.get({ name }); line(false, 'actions.delete'); }
  catch (e) { line(e.statusCode === 404, 'actions.delete', e.message); }
  try { await openwhisk({ apihost, api_key: api_key.split(':')[0] + ':wrong' }).actions.list(); line(false, 'wrong key refused'); }
  catch (e) { line(e.statusCode === 401, 'wrong key refused', e.message); }
})().catch(e => { line(false, 'client call', e.message); process.exit(1); });
