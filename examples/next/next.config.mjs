import { fileURLToPath } from 'node:url';

/** @type {import('next').NextConfig} */
export default {
  // This app has its own lock file inside a larger repository: its folder is the root.
  turbopack: { root: fileURLToPath(new URL('.', import.meta.url)) },
};
