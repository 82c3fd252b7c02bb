/** What `npm pack --json` says of the tarball it wrote. */
export interface PackInfo {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}
export declare function pack(dir: string): { tarball: string; info: PackInfo };
export declare function installInto(tarball: string, dir: string): void;
