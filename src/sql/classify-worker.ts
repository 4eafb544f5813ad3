// The worker thread behind createClassifier: classifies large inputs away from the event loop.
import { parentPort } from 'node:worker_threads';
import { loadPostgresParser } from './classify-postgres.js';
import { classifyInline, type ClassifyRequest } from './classify-inline.js';

parentPort!.on('message', async (message: { id: number } & ClassifyRequest) => {
  try {
    parentPort!.postMessage({ id: message.id, result: await classifyInline(message) });
  } catch (error) {
    parentPort!.postMessage({ id: message.id, error: (error as Error).message });
  }
});

// Ready once the parser is loaded: the classifier's time limit counts classification, not start-up.
await loadPostgresParser();
parentPort!.postMessage({ ready: true });
