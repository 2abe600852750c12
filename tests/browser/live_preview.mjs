// Drives a real headless Chromium over the DevTools protocol (Node's own WebSocket; no npm packages, no browser
// download) against a running `vipgen serve`: loads the preview, changes a unit in the catalogue file, and waits for
// the open page to show the new text and its problem. Prints PASS/FAIL lines (tests/e2e/lib.sh's form).
// usage: node --experimental-websocket live_preview.mjs URL CATALOG.xlf UNIT NEW_TEXT MARKER PROBLEM_KIND SHOTS_DIR
// (MARKER: a word of NEW_TEXT found nowhere else; PROBLEM_KIND: what vipgen check must list for the new text)
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { launch, sleep } from './cdp.mjs';

const [url, catalog, unit, newText, marker, problemKind, shots] = process.argv.slice(2);
const results = [];
const pass = (name) => { results.push(true); console.log(`PASS ${name}`); };
const fail = (name, why) => { results.push(false); console.log(`FAIL ${name}: ${why}`); };
let chrome, send, evaluate, waitFor;
const screenshot = (name) => chrome.screenshot(join(shots, name));

async function main() {
  chrome = await launch();
  ({ send, evaluate, waitFor } = chrome);
  // Requests to anywhere but the server are seen: the pages must need no network (no CDN).
  await send('Network.enable');
  const foreign = [];
  chrome.on('Network.requestWillBeSent', (p) => {
    if (!p.request.url.startsWith(url) && !p.request.url.startsWith('data:')) foreign.push(p.request.url);
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
  if (chrome) await chrome.close();
}
process.exit(results.every(Boolean) ? 0 : 1);
