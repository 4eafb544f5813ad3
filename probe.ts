import Fastify from 'fastify';
import http from 'node:http';
import pg from 'pg';
const app = Fastify();
app.post('/x', async () => ({ ok: true, status: 'EXECUTED', output: 'a' }));
await app.listen({ port: 0, host: '127.0.0.1' });
const port = (app.server.address() as any).port;
const url = `http://127.0.0.1:${port}/x`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const viaHttp = () => new Promise<void>((resolve, reject) => { const req = http.request({ host: '127.0.0.1', port, path: '/x', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => { const chunks: Buffer[] = []; res.on('data', (c) => chunks.push(c)); res.on('end', () => { JSON.parse(Buffer.concat(chunks).toString()); resolve(); }); }); req.on('error', reject); req.end('{"input":"x"}'); });
const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' }); await c.connect();
const pct = (v: number[], p: number) => v.sort((a, b) => a - b)[Math.floor(v.length * p)];
const time = async (f: () => Promise<unknown>) => { for (let i = 0; i < 300; i++) await f(); const v: number[] = []; for (let i = 0; i < 1000; i++) { const s = performance.now(); await f(); v.push(performance.now() - s); } return { p50: pct(v, 0.5).toFixed(3), p95: pct(v, 0.95).toFixed(3) }; };
for (let k = 0; k < 2; k++) {
console.log('fetch noop', await time(() => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"x"}' }).then((r) => r.json())));
console.log('http noop', await time(viaHttp));
console.log('pg ro txn', await time(async () => { await c.query('BEGIN READ ONLY'); await c.query('SELECT 1'); await c.query('COMMIT'); }));
}
await c.end(); await app.close(); agent.destroy();
