// How the script-tag build gets its lazily loaded parts (the core, then the recorder, web-vitals and the
// Flameup direct mode): another <script> from the same directory that registers itself on a global. A
// script element (no eval, no inline code) satisfies a CSP that allows the snippet's own origin, and
// carries the snippet's nonce when it has one.

/** Globals the lazily loaded files register on; not `_`-prefixed, because each file is minified apart. */
export const CORE_GLOBAL = 'spoorCore';
export const RECORDER_GLOBAL = 'spoorRecorder';
export const VITALS_GLOBAL = 'spoorVitals';
export const FLAMEUP_GLOBAL = 'spoorFlameup';
export const COMPRESS_GLOBAL = 'spoorCompress';

export function loadScript<T>(src: string, global: string, nonce: string): Promise<T> {
  const slot = window as unknown as Record<string, T | undefined>;
  return new Promise((resolve, reject) => {
    const ready = slot[global];
    if (ready) return resolve(ready);
    const element = document.createElement('script');
    element.src = src;
    element.async = true;
    if (nonce) element.nonce = nonce;
    element.onload = () => {
      const loaded = slot[global];
      if (loaded) resolve(loaded);
      else reject(new Error(`spoor: ${src} did not register ${global}`));
    };
    element.onerror = () => reject(new Error(`spoor: could not load ${src}`));
    (document.head || document.documentElement).appendChild(element);
  });
}
