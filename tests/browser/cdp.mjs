// A real headless Chromium (Debian's /usr/bin/chromium) driven over the DevTools protocol with Node's own WebSocket:
// no npm packages, no browser download. Shared by the browser tests; each call is bounded in time.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Starts Chromium and connects to its page; returns { send, evaluate, screenshot, waitFor, on, close }.
export async function launch({ width = 1200, height = 1400 } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'vipgen-chromium-'));
  const browser = spawn('/usr/bin/chromium', ['--headless=new', '--no-sandbox', '--disable-gpu',
    '--disable-background-networking', '--no-first-run', '--no-default-browser-check', '--disable-extensions',
    '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0', `--user-data-dir=${profile}`,
    `--window-size=${width},${height}`, 'about:blank'], { stdio: ['ignore', 'ignore', 'ignore'] });
  let ws, nextId = 1;
  const pending = new Map();
  const close = async () => {
    try { ws && ws.close(); } catch (e) { /* closing */ }
    browser.kill('SIGTERM');
    await sleep(300);
    rmSync(profile, { recursive: true, force: true });
  };
  // Chromium writes the port it chose into DevToolsActivePort.
  const portFile = join(profile, 'DevToolsActivePort');
  for (let i = 0; i < 150 && !existsSync(portFile); i++) await sleep(100);
  if (!existsSync(portFile)) { await close(); throw new Error('chromium did not start'); }
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
  function send(method, params = {}) {
    const id = nextId++;
    ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      setTimeout(() => { if (pending.delete(id)) reject(new Error(`${method}: no answer`)); }, 30000);
    });
  }
  async function evaluate(expression) {
    const r = await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(r.exceptionDetails.exception?.description || r.exceptionDetails.text);
    return r.result.value;
  }
  async function screenshot(file) {
    const r = await send('Page.captureScreenshot', { format: 'png' });
    writeFileSync(file, Buffer.from(r.data, 'base64'));
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
  const on = (method, handler) => ws.addEventListener('message', (m) => {
    const msg = JSON.parse(m.data);
    if (msg.method === method) handler(msg.params);
  });
  await send('Page.enable');
  await send('Runtime.enable');
  return { send, evaluate, screenshot, waitFor, on, close };
}
