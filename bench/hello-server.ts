// P4's baseline, run as its own process like the platform: a bare Fastify app with one hello route and
// Fastify's own request logging to stdout (the platform logs each request the same way, through the same pipe).
import Fastify from 'fastify';

const app = Fastify({ logger: { level: 'info' } });
app.get('/hello', async () => ({ hello: 'world' }));

const url = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(JSON.stringify({ url }));
process.once('SIGTERM', () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
