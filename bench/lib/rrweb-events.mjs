// Deterministic /track bodies shaped like what Spoor sends: rrweb incremental snapshots (mutations with
// adds, removes, text and attribute changes; sampled mouse moves; clicks; scrolls; masked inputs) in
// batches of a few KB to 50 KB of JSON, gzip-compressed as the snippet does.
import { gzipSync } from 'node:zlib';

export function generator(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const words = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november'.split(
  ' ',
);

function incremental(random, timestamp, nextId) {
  const int = (n) => Math.floor(random() * n);
  const pick = random();
  if (pick < 0.45) {
    const adds = [];
    for (let i = int(3); i > 0; i--) {
      const id = nextId();
      adds.push({
        parentId: 10 + int(3000),
        nextId: null,
        node: { type: 2, tagName: 'b', attributes: { class: 'tag' }, childNodes: [], id },
      });
      adds.push({
        parentId: id,
        nextId: null,
        node: { type: 3, textContent: words[int(words.length)], id: nextId() },
      });
    }
    return {
      type: 3,
      data: {
        source: 0,
        texts: Array.from({ length: int(6) }, () => ({
          id: 10 + int(3000),
          value: `${words[int(words.length)]} ${int(1e5)}`,
        })),
        attributes: Array.from({ length: int(4) }, () => ({
          id: 10 + int(3000),
          attributes:
            random() < 0.5
              ? { class: random() < 0.5 ? 'row hot' : 'row' }
              : { style: { color: `hsl(${int(360)} 60% 40%)` } },
        })),
        removes: Array.from({ length: int(2) }, () => ({ parentId: 10 + int(3000), id: 3000 + int(20000) })),
        adds,
      },
      timestamp,
    };
  }
  if (pick < 0.8) {
    let x = int(1280);
    let y = int(800);
    const positions = Array.from({ length: 1 + int(10) }, (_, i) => {
      x += int(40) - 20;
      y += int(30) - 15;
      return { x, y, id: 10 + int(3000), timeOffset: -500 + i * 50 };
    });
    return { type: 3, data: { source: 1, positions }, timestamp };
  }
  if (pick < 0.9) return { type: 3, data: { source: 3, id: 1, x: 0, y: int(20000) }, timestamp };
  if (pick < 0.97) {
    return {
      type: 3,
      data: { source: 2, type: int(6), id: 10 + int(3000), x: int(1280), y: int(800), pointerType: 0 },
      timestamp,
    };
  }
  return {
    type: 3,
    data: { source: 5, text: '*'.repeat(1 + int(12)), isChecked: false, id: 10 + int(3000) },
    timestamp,
  };
}

/**
 * One /track body.
 * @param {{ seed: number; sessionIdentifier: string; startMs: number; jsonBytes: number; visit?: object }} spec
 * @returns {{ json: number; gzip: Buffer; events: number }}
 */
export function trackBody({ seed, sessionIdentifier, startMs, jsonBytes, visit }) {
  const random = generator(seed);
  let id = 100_000 + seed * 1000;
  const nextId = () => id++;
  const events = [];
  let timestamp = startMs;
  if (visit) events.push({ type: 5, data: { tag: 'visit', payload: visit }, timestamp });
  let size = 0;
  while (size < jsonBytes) {
    timestamp += 1 + Math.floor(random() * 60);
    const event = incremental(random, timestamp, nextId);
    size += JSON.stringify(event).length + 1;
    events.push(event);
  }
  const json = JSON.stringify({
    sessionIdentifier,
    timer: Math.round((timestamp - startMs) / 100) / 10,
    events,
    userAgent:
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
  });
  return { json: Buffer.byteLength(json), gzip: gzipSync(json), events: events.length };
}
