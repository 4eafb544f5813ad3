// A port of 127.0.0.1 that is free now: for a gateway whose PUBLIC_URL (and so its single sign-on
// callback, registered at the test's OpenID provider) must be known before it starts.
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
