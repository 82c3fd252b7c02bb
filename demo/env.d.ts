// esbuild's text loader hands the QA panel its stylesheet as a string (see demo/build.mjs).
declare module '*.css' {
  const css: string;
  export default css;
}
