import type { CampaignStatus, MessageStatus, SenderState } from "../api/types";

type Tone = "neutral" | "info" | "success" | "warning" | "danger" | "progress";

const CAMPAIGN: Record<CampaignStatus, [string, Tone]> = {
  draft: ["Draft", "neutral"],
  scheduled: ["Scheduled", "info"],
  running: ["Sending", "progress"],
  paused: ["Paused", "warning"],
  completed: ["Completed", "success"],
  cancelled: ["Cancelled", "neutral"],
  failed: ["Failed", "danger"],
};

const SENDER: Record<SenderState, [string, Tone]> = {
  new: ["Not linked", "neutral"],
  linking: ["Waiting for the phone", "info"],
  connected: ["Connected", "success"],
  disconnected: ["Reconnecting", "warning"],
  logged_out: ["Logged out", "neutral"],
  failed: ["Failed", "danger"],
  cooling_down: ["Cooling down", "warning"],
};

const MESSAGE: Record<MessageStatus, [string, Tone]> = {
  QUEUED: ["Queued", "neutral"],
  SENDING: ["Sending", "progress"],
  RETRYING: ["Retrying", "warning"],
  SENT: ["Sent", "info"],
  DELIVERED: ["Delivered", "success"],
  READ: ["Read", "success"],
  FAILED: ["Failed", "danger"],
  SKIPPED: ["Skipped", "neutral"],
  UNKNOWN: ["Unknown", "warning"],
};

function Badge({ label, tone }: { label: string; tone: Tone }) {
  return <span className={`badge badge--${tone}`}>{label}</span>;
}

export function CampaignBadge({ status }: { status: CampaignStatus }) {
  const [label, tone] = CAMPAIGN[status] ?? [status, "neutral"];
  return <Badge label={label} tone={tone} />;
}

export function SenderBadge({ state }: { state: SenderState }) {
  const [label, tone] = SENDER[state] ?? [state, "neutral"];
  return <Badge label={label} tone={tone} />;
}

export function MessageBadge({ status }: { status: MessageStatus }) {
  const [label, tone] = MESSAGE[status] ?? [status, "neutral"];
  return <Badge label={label} tone={tone} />;
}

export function RoleBadge({ role }: { role: string }) {
  return <Badge label={role} tone="neutral" />;
}

export const MESSAGE_STATUSES = Object.keys(MESSAGE) as MessageStatus[];
export const messageStatusLabel = (status: MessageStatus) => MESSAGE[status]?.[0] ?? status;
export const senderStateLabel = (state: SenderState) => SENDER[state]?.[0] ?? state;
