// Drives a real headless Chromium over the DevTools protocol (Node's own WebSocket; no npm packages, no browser
// download) against a running `vipgen serve`: loads the preview, changes a unit in the catalogue file, and waits for
// the open page to show the new text and its problem. Prints PASS/FAIL lines (tests/e2e/lib.sh's form).
// usage: node --experimental-websocket live_preview.mjs URL CATALOG.xlf UNIT NEW_TEXT MARKER PROBLEM_KIND SHOTS_DIR
// (MARKER: a word of NEW_TEXT found nowhere else; PROBLEM_KIND: what vipgen check must list for the new text)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, renameSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, catalog, unit, newText, marker, problemKind, shots] = process.argv.slice(2);
const results = [];
const pass = (name) => { results.push(true); console.log(`PASS ${name}`); };
const fail = (name, why) => { results.push(false); console.log(`FAIL ${name}: ${why}`); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const profile = mkdtempSync(join(tmpdir(), 'vipgen-chromium-'));
const browser = spawn('/usr/bin/chromium', ['--headless=new', '--no-sandbox', '--disable-gpu',
  '--disable-background-networking', '--no-first-run', '--no-default-browser-check', '--disable-extensions',
  '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0', `--user-data-dir=${profile}`,
  '--window-size=1200,1400', 'about:blank'], { stdio: ['ignore', 'ignore', 'ignore'] });

let ws, nextId = 1;
const pending = new Map();
function send(method, params = {}) {
  const id = nextId++;
  ws.send(JSON.stringify({ id, method, params }));
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    setTimeout(() => { if (pending.delete(id)) reject(new Error(`${method}: no answer`)); }, 15000);
  });
}
async function evaluate(expression) {
  const r = await send('Runtime.evaluate', { expression, returnByValue: true });
  if (r.exceptionDetails) throw new Error(r.exceptionDetails.text);
  return r.result.value;
}
async function screenshot(name) {
  const r = await send('Page.captureScreenshot', { format: 'png' });
  writeFileSync(join(shots, name), Buffer.from(r.data, 'base64'));
}
// Waits (bounded) until the page's text satisfies test; the page may be reloading meanwhile.
async function waitFor(test, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if (test(await evaluate('document.readyState === "complete" ? document.body.innerText : ""'))) return true;
    } catch (e) { /* navigating */ }
    await sleep(100);
  }
  return false;
}

async function main() {
  // Chromium writes the port it chose into DevToolsActivePort.
  const portFile = join(profile, 'DevToolsActivePort');
  for (let i = 0; i < 150 && !existsSync(portFile); i++) await sleep(100);
  if (!existsSync(portFile)) throw new Error('chromium did not start');
  const port = readFileSync(portFile, 'utf8').split('\n')[0];
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const page = targets.find((t) => t.type === 'page');
  ws = new WebSocket(page.webSocketDebuggerUrl);
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    const p = msg.id && pending.get(msg.id);
    if (p) { pending.delete(msg.id); msg.error ? p.reject(new Error(msg.error.message)) : p.resolve(msg.result); }
  };
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  await send('Page.enable');
  await send('Runtime.enable');
  // Requests to anywhere but the server are seen: the pages must need no network (no CDN).
  await send('Network.enable');
  const foreign = [];
  ws.addEventListener('message', (m) => {
    const msg = JSON.parse(m.data);
    if (msg.method === 'Network.requestWillBeSent' && !msg.params.request.url.startsWith(url) &&
        !msg.params.request.url.startsWith('data:')) foreign.push(msg.params.request.url);
  });

  await send('Page.navigate', { url });
  if (await waitFor((t) => t.includes('Units') && t.includes(unit), 15000)) pass('browser: the index lists the units');
  else fail('browser: the index lists the units', 'not shown in 15 s');
  await screenshot('index-before.png');

  // Right to left where the language is: the unit's text cell and the documents' page strips.
  const dirs = await evaluate(`(() => { const row = document.getElementById('unit-${unit}');
    const cell = row && row.querySelector('td.text'); const strip = document.querySelector('ul.pages');
    return [cell ? cell.dir : '', cell ? cell.lang : '', strip ? strip.dir : ''].join(' '); })()`);
  const rtlExpected = process.env.PREVIEW_RTL === '1';
  if (!rtlExpected || dirs === 'rtl fa rtl') pass(`browser: text and pages run the language's way (${dirs})`);
  else fail("browser: text and pages run the language's way", dirs);

  // Keyboard: Tab reaches a link, and Enter on the first section link moves to its section.
  await send('Input.dispatchKeyEvent', { type: 'keyDown', key: 'Tab', code: 'Tab', windowsVirtualKeyCode: 9 });
  await send('Input.dispatchKeyEvent', { type: 'keyUp', key: 'Tab', code: 'Tab', windowsVirtualKeyCode: 9 });
  const focused = await evaluate('document.activeElement && document.activeElement.tagName');
  if (focused === 'A') pass('browser: Tab reaches the first link'); else fail('browser: Tab reaches the first link', focused);

  // The translator saves the catalogue (a new file renamed over the old, as many tools do).
  const before = readFileSync(catalog, 'utf8');
  const re = new RegExp(`(<unit id="${unit.replace(/\./g, '\\.')}"[^>]*>[\\s\\S]*?<target>)([\\s\\S]*?)(</target>)`);
  if (!re.test(before)) throw new Error(`no unit ${unit} with a target in ${catalog}`);
  writeFileSync(`${catalog}.saving`, before.replace(re, (m, a, b, c) => a + newText + c));
  const saved = Date.now();
  renameSync(`${catalog}.saving`, catalog);
  const shown = await waitFor((t) => t.includes(marker) && t.includes(`[${problemKind}]`), 10000);
  const ms = Date.now() - saved;
  if (shown) pass(`browser: the new text and its problem [${problemKind}] appear on the open page (${ms} ms)`);
  else fail('browser: the new text and its problem appear on the open page', 'not within 10 s');
  const rowText = await evaluate(`(() => { const r = document.getElementById('unit-${unit}'); return r ? r.innerText : ''; })()`);
  if (rowText.includes(marker) && rowText.includes(problemKind)) pass("browser: the unit's row has its text and problem");
  else fail("browser: the unit's row has its text and problem", rowText.slice(0, 300));
  await screenshot('index-after.png');

  // The unit's place on its page: the page view opens with the unit's link target.
  const href = await evaluate(`(() => { const r = document.getElementById('unit-${unit}');
    const a = r && r.querySelector('a[href*="-p"]'); return a ? a.href : ''; })()`);
  if (href) {
    await send('Page.navigate', { url: href });
    let ok = false;
    for (const end = Date.now() + 10000; !ok && Date.now() < end; await sleep(100)) {
      try {
        ok = await evaluate(`(() => { const t = document.getElementById('${unit}');
          const img = document.querySelector('.page img');
          return location.hash === '#${unit}' && !!t && !!img && img.complete && img.naturalWidth > 500; })()`);
      } catch (e) { /* loading */ }
    }
    if (ok) pass('browser: the link shows the page picture with the unit marked'); else fail('browser: the link shows the page picture', href);
    await screenshot('page.png');
  } else fail('browser: the unit links to its page', 'no link');
  if (foreign.length === 0) pass('browser: nothing requested from the network'); else fail('browser: nothing requested from the network', foreign.join(' '));
}

try {
  await main();
} catch (e) {
  fail('browser', e.message);
} finally {
  try { ws && ws.close(); } catch (e) { /* closing */ }
  browser.kill('SIGTERM');
  await sleep(300);
  rmSync(profile, { recursive: true, force: true });
}
process.exit(results.every(Boolean) ? 0 : 1);
