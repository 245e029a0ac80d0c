// Names for what the API takes and answers, all derived from the generated src/api/schema.d.ts (`make
// openapi` regenerates it from openapi.json): nothing here restates a field. Answers are named by their
// route (not by their schema's name), so a renamed schema changes nothing here; a changed field is a type
// error where the console uses it.
import type { components, paths } from "./schema";

export type { paths };
export type Schemas = components["schemas"];

type Json<T> = T extends { content: { "application/json": infer J } } ? J : never;
/** The JSON a route answers on success (200, 201 or 202). */
export type Ok<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: infer R }
  ? R extends { 200: infer A }
    ? Json<A>
    : R extends { 201: infer A }
      ? Json<A>
      : R extends { 202: infer A }
        ? Json<A>
        : never
  : never;
/** The JSON body a route takes. */
export type Body<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: { content: { "application/json": infer B } };
}
  ? NonNullable<B>
  : never;

export type Session = Ok<"/api/auth/login", "post">;
export type Me = Ok<"/api/auth/me", "get">;
export type User = Me["user"];
export type Account = Me["account"];
export type Role = User["role"];
export type Sender = Ok<"/api/senders/{sender_id}", "get">;
export type SenderStatus = Sender["status"];
export type SenderState = SenderStatus["state"];
export type PacingPolicy = Sender["pacing"];
export type PacingPreset = NonNullable<PacingPolicy["preset"]>;
export type Contact = Ok<"/api/contacts/{contact_id}", "get">;
export type ContactPage = Ok<"/api/contacts", "get">;
export type ImportReport = Ok<"/api/contacts/import", "post">;
export type ImportJob = Ok<"/api/contacts/imports/{import_id}", "get">;
export type Template = Ok<"/api/templates/{template_id}", "get">;
export type Campaign = Ok<"/api/campaigns/{campaign_id}", "get">;
export type CampaignDraft = Body<"/api/campaigns", "post">;
export type CampaignStatus = Campaign["status"];
export type CampaignStats = Ok<"/api/campaigns/{campaign_id}/stats", "get">;
export type Audience = Campaign["audience"];
export type Counters = Campaign["counters"];
export type CampaignMessage = Ok<"/api/campaigns/{campaign_id}/messages", "get">["items"][number];
export type MessageStatus = CampaignMessage["status"];
export type ApiKey = Ok<"/api/auth/api-keys", "get">["items"][number];
export type CreatedApiKey = Ok<"/api/auth/api-keys", "post">;
export type AccountSettings = Ok<"/api/account/settings", "get">;
export type QueueStats = Ok<"/api/messages/queue/stats", "get">;
export type Redrive = Ok<"/api/admin/dlq/{queue}/redrives", "get">[number];

/** The dead-letter queues an operator may redrive: the `queue` path parameter of the redrive route. */
export type DlqName = paths["/api/admin/dlq/{queue}/redrive"]["post"]["parameters"]["path"]["queue"];

export type Conversation = Ok<"/api/conversations", "get">["items"][number];
export type ConversationThread = Ok<"/api/conversations/{phone}/messages", "get">;
export type ConversationEntry = ConversationThread["items"][number];
export type Answer = Body<"/api/conversations/{phone}/messages", "post">;
export type AnswerOutcome = Ok<"/api/conversations/{phone}/messages", "post">;
export type WebhookEndpoint = Ok<"/api/webhooks/{endpoint_id}", "get">;
export type CreatedWebhook = Ok<"/api/webhooks", "post">;
export type WebhookEventType = WebhookEndpoint["events"][number];
export type WebhookDelivery = Ok<"/api/webhooks/{endpoint_id}/deliveries", "get">["items"][number];
export type WebhookDeliveryStatus = WebhookDelivery["status"];
