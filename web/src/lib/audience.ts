import type { Audience, Contact } from "../api/types";
import { collect, contactsPage } from "../api/queries";

/** How far the console reads an audience to count it (the API counts only when the campaign is saved). */
export const AUDIENCE_SCAN_LIMIT = 10_000;

export interface AudienceCount {
  /** Distinct contacts in the audience. */
  total: number;
  /** Of which opted out: they are skipped, never messaged. */
  optedOut: number;
  /** A few of them, for the message preview. */
  sample: Contact[];
  /** False when the audience is larger than the console read. */
  complete: boolean;
}

/** Counts an audience as the dispatcher will read it: anyone with any of the tags (each once), the
 * contacts of an import, or the picked contacts; the opted-out ones apart. */
export async function countAudience(audience: Audience, picked: Contact[] = []): Promise<AudienceCount> {
  const seen = new Map<string, Contact>();
  let complete = true;
  if (audience.tags?.length) {
    for (const tag of audience.tags) {
      const result = await collect((cursor) => contactsPage({ tag }, cursor), AUDIENCE_SCAN_LIMIT);
      complete &&= result.complete;
      for (const c of result.items) seen.set(c.id, c);
    }
  } else if (audience.import_batch) {
    const result = await collect((cursor) => contactsPage({ import_batch: audience.import_batch ?? undefined }, cursor), AUDIENCE_SCAN_LIMIT);
    complete = result.complete;
    for (const c of result.items) seen.set(c.id, c);
  } else if (audience.contact_ids?.length) {
    const byId = new Map(picked.map((c) => [c.id, c]));
    for (const id of audience.contact_ids) {
      const c = byId.get(id);
      if (c) seen.set(id, c);
    }
  }
  const all = [...seen.values()];
  return {
    total: all.length,
    optedOut: all.filter((c) => c.opted_out).length,
    sample: all.filter((c) => !c.opted_out).slice(0, 25),
    complete,
  };
}
