import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { api, call } from "../api/client";
import { keys, useCampaign, useContact, useConversations, useSenders, useThread } from "../api/queries";
import type { AnswerOutcome, Conversation, ConversationEntry } from "../api/types";
import { MessageBadge, messageStatusLabel } from "../components/Badge";
import { Field } from "../components/Field";
import { Empty, FormError, LoadError, Loading } from "../components/feedback";
import { Page } from "../components/Page";
import { Pager, useCursorPager } from "../components/Pager";
import { formatDateTime, formatRelative } from "../lib/format";
import { useFormErrors } from "../lib/useFormErrors";

/** Where a conversation lives in the console (its phone, E.164, as one path segment). */
export const conversationPath = (phone: string) => `/conversations/${encodeURIComponent(phone)}`;

/**
 * Conversations: every phone that wrote to one of the account's numbers (the latest activity first) and,
 * beside it, the chosen conversation both ways with a box to answer. Both are polled while shown.
 */
export function Conversations() {
  const { phone = "" } = useParams();
  return (
    <Page title="Conversations" lead="Replies to your messages, and your answers. The latest activity comes first.">
      <div className={`conversations${phone ? " conversations--open" : ""}`}>
        <ConversationList selected={phone} />
        {phone ? (
          <Thread key={phone} phone={phone} />
        ) : (
          <section className="card thread thread--none" aria-label="Conversation">
            <p className="muted">Choose a conversation to read it and answer.</p>
          </section>
        )}
      </div>
    </Page>
  );
}

function ConversationList({ selected }: { selected: string }) {
  const pager = useCursorPager();
  const list = useConversations(pager.cursor);
  const senders = useSenders();
  const senderName = (id: string) => senders.data?.find((s) => s.id === id)?.display_name ?? "";
  return (
    <section className="card conversation-list" aria-labelledby="conversation-list-title">
      <h2 id="conversation-list-title" className="visually-hidden">
        Who wrote
      </h2>
      {list.isPending ? <Loading /> : null}
      {list.isError ? <LoadError error={list.error} retry={() => list.refetch()} /> : null}
      {list.data && list.data.items.length === 0 && pager.page === 1 ? (
        <Empty title="No conversation yet">
          <p>When someone answers a message of yours on WhatsApp, the conversation shows here.</p>
        </Empty>
      ) : null}
      {list.data && list.data.items.length ? (
        <ul className="conversation-items">
          {list.data.items.map((conversation) => (
            <ConversationRow
              key={conversation.phone}
              conversation={conversation}
              senderName={senderName(conversation.sender_id)}
              current={conversation.phone === selected}
            />
          ))}
        </ul>
      ) : null}
      <Pager
        label="Conversation pages"
        page={pager.page}
        hasNext={!!list.data?.next_cursor}
        onNext={() => list.data?.next_cursor && pager.next(list.data.next_cursor)}
        onPrevious={pager.previous}
      />
    </section>
  );
}

function ConversationRow({ conversation, senderName, current }: { conversation: Conversation; senderName: string; current: boolean }) {
  const contact = useContact(conversation.contact_id ?? null);
  const name = contact.data?.name || conversation.phone;
  const awaiting = conversation.last_direction === "in";
  const preview = conversation.last_text || (awaiting ? "(a media message)" : "");
  return (
    <li className={`conversation-item${current ? " conversation-item--current" : ""}`}>
      <Link to={conversationPath(conversation.phone)} aria-current={current ? "page" : undefined}>
        <span className="conversation-top">
          <span className="conversation-name">{name}</span>
          <time dateTime={conversation.last_at} title={formatDateTime(conversation.last_at)} className="conversation-time">
            {formatRelative(conversation.last_at)}
          </time>
        </span>
        {name !== conversation.phone ? <span className="conversation-phone">{conversation.phone}</span> : null}
        <span className="conversation-preview">
          {awaiting ? null : <span className="muted">You: </span>}
          {preview}
        </span>
        <span className="conversation-meta">
          {awaiting ? <span className="badge badge--info">Awaiting your answer</span> : null}
          <span className="muted">
            {conversation.replies ?? 0} {conversation.replies === 1 ? "reply" : "replies"}
            {senderName ? ` · to ${senderName}` : ""}
          </span>
        </span>
      </Link>
    </li>
  );
}

function Thread({ phone }: { phone: string }) {
  const thread = useThread(phone);
  const contactId = thread.data?.pages[0]?.conversation.contact_id ?? null;
  const contact = useContact(contactId);
  const senders = useSenders();
  const conversation = thread.data?.pages[0]?.conversation;
  const name = contact.data?.name || phone;
  const sender = senders.data?.find((s) => s.id === conversation?.sender_id);
  // the API answers newest first; a chat reads oldest first, the newest at the bottom
  const entries = (thread.data?.pages.flatMap((p) => p.items) ?? []).slice().reverse();
  // the newest message in view when the thread opens and when a message arrives (the page itself stays put)
  const chat = useRef<HTMLDivElement>(null);
  const newest = entries[entries.length - 1]?.id;
  useEffect(() => {
    if (chat.current) chat.current.scrollTop = chat.current.scrollHeight;
  }, [newest]);

  return (
    <section className="card thread" aria-labelledby="thread-title">
      <div className="card-header">
        <div>
          <h2 id="thread-title">{name}</h2>
          <p className="muted thread-sub">
            {name !== phone ? `${phone} · ` : ""}
            {sender ? `writes to ${sender.display_name}` : null}
            {contactId ? (
              <>
                {" · "}
                <Link to={`/contacts?q=${encodeURIComponent(phone)}`}>find in contacts</Link>
              </>
            ) : null}
          </p>
        </div>
        <Link className="button button--secondary button--small thread-back" to="/conversations">
          All conversations
        </Link>
      </div>
      {thread.isPending ? <Loading /> : null}
      {thread.isError ? <LoadError error={thread.error} retry={() => thread.refetch()} /> : null}
      {thread.hasNextPage ? (
        <div className="thread-older">
          <button type="button" className="button button--secondary button--small" disabled={thread.isFetchingNextPage} onClick={() => thread.fetchNextPage()}>
            Show older messages
          </button>
        </div>
      ) : null}
      {thread.data ? (
        // a region that scrolls: focusable, so it scrolls from the keyboard too
        <div ref={chat} className="chat" role="region" aria-label={`Messages with ${name}`} tabIndex={0}>
          <ol className="chat-list">
            {entries.map((entry) => (
              <Entry key={entry.id} entry={entry} />
            ))}
          </ol>
        </div>
      ) : null}
      {thread.data ? <AnswerForm phone={phone} name={name} /> : null}
    </section>
  );
}

/** What a message without text was (the API's `media_type`: image, video, audio, document, sticker...). */
function mediaLabel(mediaType: string | null | undefined): string {
  if (!mediaType) return "A message without text";
  const kind = mediaType.split("/")[0] ?? mediaType;
  return `A${/^[aeiou]/i.test(kind) ? "n" : ""} ${kind} message`;
}

function Entry({ entry }: { entry: ConversationEntry }) {
  const inbound = entry.direction === "in";
  return (
    <li className={`chat-entry chat-entry--${inbound ? "in" : "out"}`}>
      <div className="chat-bubble">
        <span className="visually-hidden">{inbound ? "They wrote: " : "You sent: "}</span>
        {entry.text ? <p className="chat-text">{entry.text}</p> : <p className="chat-text chat-media">{mediaLabel(entry.media_type)}</p>}
        {entry.text && entry.media_type ? <p className="chat-note">with {mediaLabel(entry.media_type).toLowerCase()}</p> : null}
        {entry.media_url ? (
          <p className="chat-note">
            <a href={entry.media_url} target="_blank" rel="noreferrer">
              Attached file
            </a>
          </p>
        ) : null}
        <p className="chat-meta">
          <time dateTime={entry.at}>{formatDateTime(entry.at)}</time>
          {!inbound && entry.status ? <MessageBadge status={entry.status} /> : null}
        </p>
        {entry.campaign_id ? <CampaignNote id={entry.campaign_id} inbound={inbound} /> : null}
      </div>
    </li>
  );
}

function CampaignNote({ id, inbound }: { id: string; inbound: boolean }) {
  const campaign = useCampaign(id);
  return (
    <p className="chat-note">
      {inbound ? "Answering campaign " : "Campaign "}
      <Link to={`/campaigns/${id}`}>{campaign.data?.name ?? id}</Link>
    </p>
  );
}

function AnswerForm({ phone, name }: { phone: string; name: string }) {
  const queryClient = useQueryClient();
  const [text, setText] = useState("");
  const [sent, setSent] = useState<AnswerOutcome | null>(null);
  const form = useFormErrors(["message", "media_url"]);
  const answer = useMutation({
    mutationFn: (message: string) =>
      call(api.POST("/api/conversations/{phone}/messages", { params: { path: { phone } }, body: { message } })),
    onSuccess: async (outcome) => {
      setSent(outcome);
      setText("");
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: keys.thread(phone) }),
        queryClient.invalidateQueries({ queryKey: ["conversations"], exact: false }),
      ]);
    },
    onError: (error) => form.fail(error),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    form.clear();
    setSent(null);
    if (!text.trim()) {
      form.set({ message: "Write the answer first." });
      return;
    }
    answer.mutate(text);
  };
  return (
    <form ref={form.formRef} className="answer-form" onSubmit={submit} noValidate>
      <FormError message={form.errors.general} />
      <Field label="Your answer" hint={`Sent to ${name} at once, from the number they wrote to.`} error={form.of("message")}>
        <textarea
          rows={3}
          value={text}
          maxLength={4096}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) e.currentTarget.form?.requestSubmit();
          }}
        />
      </Field>
      <div className="actions">
        <button type="submit" className="button button--primary" disabled={answer.isPending}>
          {answer.isPending ? "Sending…" : "Send answer"}
        </button>
        {sent ? (
          <span className="muted" role="status">
            {sent.status === "FAILED" ? `Not sent: ${sent.lastError ?? "it failed"}` : `Answer ${messageStatusLabel(sent.status).toLowerCase()}.`}
          </span>
        ) : null}
      </div>
    </form>
  );
}
