import { QueryClient, keepPreviousData, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { api, call } from "./client";
import { ApiError } from "./errors";
import type { Campaign, CampaignStats, Contact, ConversationThread, MessageStatus, Sender, Template } from "./types";

/**
 * Server state: react-query caches each answer and refetches it when it goes stale. Live views poll with
 * `refetchInterval`; react-query pauses that interval while the tab is hidden (its
 * `refetchIntervalInBackground` stays false) and refetches when the tab comes back.
 */
export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      retry: (failures, error) => failures < 2 && (!(error instanceof ApiError) || error.status === 0 || error.status >= 500),
    },
    mutations: { retry: false },
  },
});

/** How often live views poll (campaign progress, a sender being linked, queue depths). */
export const LIVE_MS = 3_000;
export const LINKING_MS = 2_000;

export const keys = {
  me: ["me"] as const,
  senders: ["senders"] as const,
  senderStatus: (id: string) => ["senders", id, "status"] as const,
  qr: (id: string) => ["senders", id, "qr"] as const,
  contacts: (filter: object) => ["contacts", filter] as const,
  contact: (id: string) => ["contacts", "one", id] as const,
  templates: ["templates"] as const,
  template: (id: string) => ["templates", id] as const,
  campaigns: ["campaigns"] as const,
  campaign: (id: string) => ["campaigns", id] as const,
  stats: (id: string) => ["campaigns", id, "stats"] as const,
  messages: (id: string, status: MessageStatus | null, cursor: string | null) => ["campaigns", id, "messages", status, cursor] as const,
  settings: ["settings"] as const,
  apiKeys: ["api-keys"] as const,
  queueStats: ["queue-stats"] as const,
  redrives: (queue: string) => ["redrives", queue] as const,
  scheduled: ["scheduled"] as const,
  conversations: (cursor: string | null) => ["conversations", cursor] as const,
  thread: (phone: string) => ["conversations", "thread", phone] as const,
  webhooks: ["webhooks"] as const,
  deliveries: (endpointId: string, cursor: string | null) => ["webhooks", endpointId, "deliveries", cursor] as const,
};

export function useMe() {
  return useQuery({ queryKey: keys.me, queryFn: () => call(api.GET("/api/auth/me")), staleTime: 60_000 });
}

/** A sender on its way somewhere (being linked, or reconnecting): worth watching live. */
export function isSettling(sender: Sender): boolean {
  const states = [sender.status.state, ...Object.values(sender.status.drivers).map((d) => d.state ?? "new")];
  return states.some((s) => s === "linking" || s === "disconnected");
}

/** The account's senders; polled while one is settling, or while `watch` (a link was just asked for). */
export function useSenders(watch = false) {
  return useQuery({
    queryKey: keys.senders,
    queryFn: () => call(api.GET("/api/senders")),
    refetchInterval: (query) => (watch || query.state.data?.some(isSettling) ? LINKING_MS : false),
  });
}

export function useContactsPage(filter: { tag?: string; import_batch?: string; cursor?: string | null; limit?: number }) {
  return useQuery({
    queryKey: keys.contacts(filter),
    queryFn: () =>
      call(
        api.GET("/api/contacts", {
          params: {
            query: {
              tag: filter.tag || undefined,
              import_batch: filter.import_batch || undefined,
              cursor: filter.cursor || undefined,
              limit: filter.limit ?? 50,
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
}

/** Every page of a listing, up to `max` items (the API pages with an opaque cursor). */
export async function collect<T>(
  page: (cursor: string | undefined) => Promise<{ items: T[]; next_cursor: string | null }>,
  max: number,
): Promise<{ items: T[]; complete: boolean }> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const result = await page(cursor);
    items.push(...result.items);
    if (!result.next_cursor) return { items, complete: true };
    if (items.length >= max) return { items, complete: false };
    cursor = result.next_cursor;
  }
}

export function contactsPage(query: { tag?: string; import_batch?: string }, cursor: string | undefined, limit = 100) {
  return call(api.GET("/api/contacts", { params: { query: { ...query, cursor, limit } } }));
}

export function useTemplates() {
  return useQuery({
    queryKey: keys.templates,
    queryFn: async (): Promise<Template[]> =>
      (await collect((cursor) => call(api.GET("/api/templates", { params: { query: { cursor, limit: 100 } } })), 1000)).items,
  });
}

export function useCampaigns(poll = false) {
  return useQuery({
    queryKey: keys.campaigns,
    queryFn: async (): Promise<{ items: Campaign[]; complete: boolean }> =>
      collect((cursor) => call(api.GET("/api/campaigns", { params: { query: { cursor, limit: 100 } } })), 1000),
    refetchInterval: poll ? LIVE_MS * 2 : false,
  });
}

export function useCampaign(id: string, poll = false) {
  return useQuery({
    queryKey: keys.campaign(id),
    queryFn: () => call(api.GET("/api/campaigns/{campaign_id}", { params: { path: { campaign_id: id } } })),
    enabled: !!id,
    refetchInterval: poll ? LIVE_MS : false,
  });
}

export function useCampaignStats(id: string, poll: boolean) {
  return useQuery({
    queryKey: keys.stats(id),
    queryFn: (): Promise<CampaignStats> =>
      call(api.GET("/api/campaigns/{campaign_id}/stats", { params: { path: { campaign_id: id } } })),
    refetchInterval: poll ? LIVE_MS : false,
  });
}

export function useMessages(id: string, status: MessageStatus | null, cursor: string | null, poll: boolean) {
  return useQuery({
    queryKey: keys.messages(id, status, cursor),
    queryFn: () =>
      call(
        api.GET("/api/campaigns/{campaign_id}/messages", {
          params: { path: { campaign_id: id }, query: { status: status ?? undefined, cursor: cursor ?? undefined, limit: 50 } },
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: poll ? LIVE_MS * 2 : false,
  });
}

export function useContact(id: string | null) {
  return useQuery({
    queryKey: keys.contact(id ?? ""),
    queryFn: (): Promise<Contact> => call(api.GET("/api/contacts/{contact_id}", { params: { path: { contact_id: id ?? "" } } })),
    enabled: !!id,
  });
}

export function useSettings() {
  return useQuery({ queryKey: keys.settings, queryFn: () => call(api.GET("/api/account/settings")) });
}

/** The account's conversations, the latest activity first, one page; polled while the page is shown. */
export function useConversations(cursor: string | null) {
  return useQuery({
    queryKey: keys.conversations(cursor),
    queryFn: () => call(api.GET("/api/conversations", { params: { query: { cursor: cursor ?? undefined, limit: 50 } } })),
    placeholderData: keepPreviousData,
    refetchInterval: LIVE_MS * 2,
  });
}

/** One conversation both ways, newest first, a page of 50 at a time ("older" loads the next); polled. */
export function useThread(phone: string) {
  return useInfiniteQuery({
    queryKey: keys.thread(phone),
    queryFn: ({ pageParam }): Promise<ConversationThread> =>
      call(api.GET("/api/conversations/{phone}/messages", { params: { path: { phone }, query: { cursor: pageParam ?? undefined, limit: 50 } } })),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    enabled: !!phone,
    refetchInterval: LIVE_MS,
  });
}

/** The account's webhook endpoints; polled slowly, so an endpoint wacast disables shows it. */
export function useWebhooks() {
  return useQuery({ queryKey: keys.webhooks, queryFn: () => call(api.GET("/api/webhooks")), refetchInterval: LIVE_MS * 5 });
}

/** An endpoint's delivery log, newest first; polled while shown (deliveries are tried in the background). */
export function useDeliveries(endpointId: string, cursor: string | null) {
  return useQuery({
    queryKey: keys.deliveries(endpointId, cursor),
    queryFn: () =>
      call(
        api.GET("/api/webhooks/{endpoint_id}/deliveries", {
          params: { path: { endpoint_id: endpointId }, query: { cursor: cursor ?? undefined, limit: 20 } },
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: LIVE_MS,
  });
}
