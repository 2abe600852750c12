// The station page in a real headless Chromium: an officer picks a language, types the case details, chooses how to
// print, and gets the booklet — as the browser's own form submission encodes it (FormData), fetched by the page.
// Bad details are shown on the page with the field named. Also: keyboard reach, no network beyond the server.
// usage: node --experimental-websocket station.mjs URL SHOTS_DIR   (URL: the server's /station page)
import { join } from 'node:path';
import { launch } from './cdp.mjs';

const [url, shots] = process.argv.slice(2);
const results = [];
const pass = (name) => { results.push(true); console.log(`PASS ${name}`); };
const fail = (name, why) => { results.push(false); console.log(`FAIL ${name}: ${why}`); };
const check = (name, ok, why) => (ok ? pass(name) : fail(name, why));
let chrome;

// Fills the form as an officer would and submits it the browser's way, returning what the server answered.
const submit = (fields) => `(async () => {
  const f = document.querySelector('form');
  const v = ${JSON.stringify(fields)};
  f.lang.value = v.lang; f.ref.value = v.ref || ''; f.officer.value = v.officer || '';
  f.phone.value = v.phone || ''; f.email.value = v.email || '';
  for (const r of f.querySelectorAll('input[name=print]')) r.checked = r.value === (v.print || 'a4');
  f.large.checked = !!v.large;
  const query = new URLSearchParams(new FormData(f)).toString();
  const r = await fetch(f.action + '?' + query);
  const bytes = new Uint8Array(await r.arrayBuffer());
  return { status: r.status, type: r.headers.get('content-type'), head: String.fromCharCode(...bytes.slice(0, 5)),
           size: bytes.length, text: r.status === 200 ? '' : new TextDecoder().decode(bytes), query };
})()`;

async function main() {
  chrome = await launch({ width: 900, height: 1100 });
  const { send, evaluate, waitFor, on } = chrome;
  await send('Network.enable');
  const origin = new URL(url).origin;
  const foreign = [];
  on('Network.requestWillBeSent', (p) => { if (!p.request.url.startsWith(origin)) foreign.push(p.request.url); });
  await send('Page.navigate', { url });
  check('station: the page loads', await waitFor((t) => t.includes('Make the booklet'), 15000), 'no form in 15 s');
  const langs = await evaluate('[...document.querySelectorAll("#lang option")].map((o) => o.value).join(" ")');
  check('station: every language offered', langs === 'en pl ro ar fa ur pa zh-Hans', langs);
  await chrome.screenshot(join(shots, 'station.png'));

  // A booklet in Urdu with the case details, and an A5 large-print one in Chinese.
  let r = await evaluate(submit({ lang: 'ur', ref: 'NC/2024/012350', officer: 'DC Imran Siddiqui', phone: '0300 555 0152',
    email: 'imran.siddiqui@northshire.police.example' }));
  check('station: an Urdu booklet with the case details', r.status === 200 && r.type === 'application/pdf' &&
    r.head === '%PDF-' && r.size > 50000, JSON.stringify({ ...r, text: r.text.slice(0, 200) }));
  r = await evaluate(submit({ lang: 'zh-Hans', print: 'a5-booklet', large: true }));
  check('station: an A5 large-print booklet in Chinese', r.status === 200 && r.head === '%PDF-',
    JSON.stringify({ ...r, text: r.text.slice(0, 200) }));

  // A reference that is not one: refused, on the page, naming the field; nothing made.
  r = await evaluate(submit({ lang: 'ar', ref: 'not a reference!' }));
  check('station: a bad reference named', r.status === 400 && r.type.startsWith('text/html') &&
    r.text.includes('Crime reference') && r.text.includes('is not a crime reference'), `${r.status} ${r.text.slice(0, 300)}`);
  r = await evaluate(submit({ lang: 'en', officer: 'A'.repeat(500) }));
  check('station: a 500-character officer name refused', r.status === 400 && r.text.includes('Officer') &&
    r.text.includes('at most 300'), `${r.status} ${r.text.slice(0, 300)}`);

  // Keyboard: Tab reaches the language list first.
  await send('Page.navigate', { url });
  await waitFor((t) => t.includes('Make the booklet'), 15000);
  await send('Input.dispatchKeyEvent', { type: 'keyDown', key: 'Tab', code: 'Tab', windowsVirtualKeyCode: 9 });
  await send('Input.dispatchKeyEvent', { type: 'keyUp', key: 'Tab', code: 'Tab', windowsVirtualKeyCode: 9 });
  const focused = await evaluate('document.activeElement && document.activeElement.id');
  check('station: Tab reaches the language list', focused === 'lang', focused);
  check('station: nothing requested from the network', foreign.length === 0, foreign.join(' '));
}

try {
  await main();
} catch (e) {
  fail('station', e.message);
} finally {
  if (chrome) await chrome.close();
}
process.exit(results.every(Boolean) ? 0 : 1);
