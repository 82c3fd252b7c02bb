// The get-events worker's entry: piscina calls the default export with each task (server/read/pool.ts).
// The page's JSON bytes are transferred back, not copied.
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { buildPage, type PageTask } from './page.js';

export default function pageTask(task: PageTask): unknown {
  const result = buildPage(task);
  return move({
    get [transferableSymbol]() {
      return [result.json.buffer];
    },
    get [valueSymbol]() {
      return result;
    },
  });
}
