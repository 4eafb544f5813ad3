// The worker thread behind createClassifier: classifies (and traces) large inputs away from the
// event loop.
import { parentPort } from 'node:worker_threads';
import { loadPostgresParser } from './classify-postgres.js';
import { classifyInline, lineageInline, type ClassifyRequest, type LineageJob } from './classify-inline.js';

type Message = { id: number } & ({ task: 'classify'; job: ClassifyRequest } | { task: 'lineage'; job: LineageJob });

parentPort!.on('message', async (message: Message) => {
  try {
    const result = message.task === 'classify' ? await classifyInline(message.job) : await lineageInline(message.job);
    parentPort!.postMessage({ id: message.id, result });
  } catch (error) {
    parentPort!.postMessage({ id: message.id, error: (error as Error).message });
  }
});

// Ready once the parser is loaded: the classifier's time limit counts classification, not start-up.
await loadPostgresParser();
parentPort!.postMessage({ ready: true });
