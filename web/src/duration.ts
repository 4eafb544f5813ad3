// How the web app writes a length of time (the Analytics page's times to decision). Pure.

/** 0.4s, 45s, 12m 5s, 3h 20m, 2d 4h (under 10 s with a tenth: a quick decision is not "0s"). */
export function duration(sec: number | null): string {
  if (sec === null) return '–';
  if (sec < 9.95) return `${Math.round(sec * 10) / 10}s`;
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}
