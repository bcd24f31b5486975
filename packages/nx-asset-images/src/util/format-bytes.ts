const MB = 1024 * 1024;

/** Bytes for people: `12 B`, `3.4 KiB`, `56.7 MiB`, `1.23 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * MB) return `${(bytes / (1024 * MB)).toFixed(2)} GiB`;
  if (bytes >= MB) return `${(bytes / MB).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}
