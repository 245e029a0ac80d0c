/**
 * The imports this browser made, so the campaign builder can offer "the contacts of that file". The API
 * keeps each contact's `import_batch` but has no list of imports (docs/console.md, API gaps).
 */

export interface RecentImport {
  batch: string;
  fileName: string;
  rows: number;
  at: string;
}

const key = (accountId: string) => `wacast.imports.${accountId}`;

export function recentImports(accountId: string): RecentImport[] {
  try {
    const value = JSON.parse(localStorage.getItem(key(accountId)) ?? "[]") as RecentImport[];
    return Array.isArray(value) ? value : [];
  } catch {
    return [];
  }
}

export function rememberImport(accountId: string, entry: RecentImport): void {
  const others = recentImports(accountId).filter((i) => i.batch !== entry.batch);
  localStorage.setItem(key(accountId), JSON.stringify([entry, ...others].slice(0, 20)));
}
