import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, call } from "../api/client";
import { messageOf } from "../api/errors";
import { keys, useSenders } from "../api/queries";
import type { PacingPolicy, Sender } from "../api/types";
import { useSession } from "../auth/useSession";
import { SenderBadge } from "../components/Badge";
import { ConfirmButton } from "../components/ConfirmButton";
import { Field } from "../components/Field";
import { Empty, FormError, LoadError, Loading, Notice } from "../components/feedback";
import { PacingEditor } from "../components/PacingEditor";
import { Page, Section } from "../components/Page";
import { QrCode } from "../components/QrCode";
import { formatDateTime, formatRelative } from "../lib/format";
import { describePolicy } from "../lib/pacing";
import { useFormErrors } from "../lib/useFormErrors";
import { DataTable } from "../components/DataTable";

const DRIVER_NAMES: Record<string, string> = {
  neonize: "neonize (WhatsApp multi-device)",
  webjs: "whatsapp-web.js (WhatsApp Web)",
  simulated: "simulated network",
};

export function Numbers() {
  const [watching, setWatching] = useState(false);
  const senders = useSenders(watching);
  const session = useSession();
  const canManage = session?.user.role !== "member";
  const [adding, setAdding] = useState(false);
  const list = senders.data;

  return (
    <Page
      title="Numbers"
      lead="The WhatsApp numbers you send from. Each number links like WhatsApp Web: scan a QR code with the phone (or type a pairing code)."
      actions={
        canManage && !adding ? (
          <button type="button" className="button button--primary" onClick={() => setAdding(true)}>
            Add a number
          </button>
        ) : null
      }
    >
      {!canManage ? <Notice>Members can look at numbers; an owner or admin links and changes them.</Notice> : null}
      {adding ? <AddSender onDone={() => setAdding(false)} /> : null}
      {senders.isPending ? <Loading /> : null}
      {senders.isError ? <LoadError error={senders.error} retry={() => senders.refetch()} /> : null}
      {list && list.length === 0 && !adding ? (
        <Empty title="No number yet">
          <p>Add the WhatsApp number you want to send from, then link it with your phone.</p>
        </Empty>
      ) : null}
      {list?.map((sender) => (
        <SenderCard
          key={sender.id}
          sender={sender}
          isDefault={session?.account.default_sender_id === sender.id}
          canManage={canManage}
          onWatch={() => setWatching(true)}
        />
      ))}
    </Page>
  );
}

function AddSender({ onDone }: { onDone: () => void }) {
  const queryClient = useQueryClient();
  const [phone, setPhone] = useState("");
  const [name, setName] = useState("");
  const [primary, setPrimary] = useState("neonize");
  const [fallback, setFallback] = useState("webjs");
  const form = useFormErrors(["phone", "display_name", "drivers"]);
  const create = useMutation({
    mutationFn: () =>
      call(
        api.POST("/api/senders", {
          body: { phone, display_name: name, drivers: [primary, ...(fallback && fallback !== primary ? [fallback] : [])] },
        }),
      ),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: keys.senders });
      onDone();
    },
    onError: (error) => form.fail(error),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    form.clear();
    create.mutate();
  };
  return (
    <Section title="Add a number">
      <form ref={form.formRef} onSubmit={submit} noValidate>
        <FormError message={form.errors.general} />
        <div className="row">
          <Field label="WhatsApp number" hint="With the country code, e.g. +91 98765 43210." error={form.of("phone")}>
            <input type="tel" autoComplete="tel" required value={phone} onChange={(e) => setPhone(e.target.value)} />
          </Field>
          <Field label="Name (for you)" hint="e.g. Shop front desk" error={form.of("display_name")}>
            <input type="text" value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
        </div>
        <div className="row">
          <Field label="Primary connection" error={form.of("drivers")}>
            <select value={primary} onChange={(e) => setPrimary(e.target.value)}>
              <option value="neonize">{DRIVER_NAMES.neonize}</option>
              <option value="webjs">{DRIVER_NAMES.webjs}</option>
            </select>
          </Field>
          <Field label="Fallback connection" hint="Used when the primary cannot send. Linked separately, as a second device.">
            <select value={fallback} onChange={(e) => setFallback(e.target.value)}>
              <option value="webjs">{DRIVER_NAMES.webjs}</option>
              <option value="neonize">{DRIVER_NAMES.neonize}</option>
              <option value="">No fallback</option>
            </select>
          </Field>
        </div>
        <div className="actions">
          <button type="submit" className="button button--primary" disabled={create.isPending}>
            {create.isPending ? "Adding…" : "Add number"}
          </button>
          <button type="button" className="button button--secondary" onClick={onDone}>
            Cancel
          </button>
        </div>
      </form>
    </Section>
  );
}

function SenderCard({
  sender,
  isDefault,
  canManage,
  onWatch,
}: {
  sender: Sender;
  isDefault: boolean;
  canManage: boolean;
  onWatch: () => void;
}) {
  const queryClient = useQueryClient();
  const [linkingDriver, setLinkingDriver] = useState<string | null>(null);
  const [editingPace, setEditingPace] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [pairing, setPairing] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: keys.senders });
  const path = { sender_id: sender.id };

  const command = useMutation({
    mutationFn: async ({ kind, driver }: { kind: "link" | "logout"; driver: string | null }) => {
      const body = driver ? { driver } : {};
      if (kind === "link") return call(api.POST("/api/senders/{sender_id}/link", { params: { path }, body }));
      return call(api.POST("/api/senders/{sender_id}/logout", { params: { path }, body }));
    },
    onMutate: ({ kind, driver }) => {
      onWatch();
      setActionError(null);
      setLinkingDriver(kind === "link" ? (driver ?? sender.drivers[0] ?? null) : null);
    },
    onSuccess: refresh,
    onError: (error) => {
      setLinkingDriver(null);
      setActionError(messageOf(error));
    },
  });
  const resume = useMutation({
    mutationFn: () => call(api.POST("/api/senders/{sender_id}/resume", { params: { path } })),
    onSuccess: refresh,
    onError: (error) => setActionError(messageOf(error)),
  });
  const remove = useMutation({
    mutationFn: () => call(api.DELETE("/api/senders/{sender_id}", { params: { path } })),
    onSuccess: refresh,
    onError: (error) => setActionError(messageOf(error)),
  });

  const linkingNow = Object.entries(sender.status.drivers).find(([, d]) => d.state === "linking")?.[0] ?? null;
  const showLink = linkingDriver !== null || linkingNow !== null || sender.status.qr_available || !!sender.status.pairing_code;
  const shownDriver = linkingNow ?? linkingDriver;
  const connectedDriver = linkingDriver && sender.status.drivers[linkingDriver]?.state === "connected";
  const title = sender.display_name || sender.phone || sender.id;
  // The API shows a QR code only while the number as a whole is not connected: a second connection of a
  // connected number (its fallback) links with a pairing code (docs/console.md, API gaps).
  const qrPossible = sender.status.state !== "connected";
  const usePairing = pairing || !qrPossible;

  return (
    <section className="card sender" aria-labelledby={`${sender.id}-title`}>
      <div className="card-header">
        <div>
          <h2 id={`${sender.id}-title`}>
            {title} {isDefault ? <span className="badge badge--info">default</span> : null}
          </h2>
          <p className="muted">
            {sender.phone ?? "number not known yet"} · added {formatDateTime(sender.created_at)}
          </p>
        </div>
        <SenderBadge state={sender.status.state} />
      </div>
      {sender.status.state === "cooling_down" && sender.status.cooling ? (
        <div className="notice notice--warning cooling" role="status">
          <p>
            <strong>Sending is paused to protect this number.</strong> {sender.status.cooling.detail}
            {sender.status.cooling.code ? ` (WhatsApp code ${sender.status.cooling.code})` : ""}.{" "}
            {sender.status.cooling.until
              ? `It sends again ${formatRelative(sender.status.cooling.until)}; its campaigns paused for this resume then.`
              : "It stays paused until you resume it."}
          </p>
          {canManage ? (
            <ConfirmButton
              className="button--small"
              tone="default"
              question="Resume sending now? WhatsApp may ban a number that keeps sending after a warning."
              confirmLabel="Resume now"
              onConfirm={() => resume.mutateAsync()}
            >
              Resume sending
            </ConfirmButton>
          ) : null}
        </div>
      ) : null}
      {sender.status.last_error ? <Notice tone="warning">Last problem: {sender.status.last_error}</Notice> : null}
      {actionError ? (
        <div className="notice notice--error" role="alert">
          {actionError}
        </div>
      ) : null}

      <DataTable label={`Connections of ${title}`} columns={["Connection", "State", "Since"]} actions>
        {sender.drivers.map((driver, index) => {
          const session = sender.status.drivers[driver] ?? {};
          // A sender connected before its connections reported (the local stack's simulated sender)
          // shows the number's state on its primary.
          const reported = session.state ?? "new";
          const derived = reported === "new" && index === 0 && sender.status.state === "connected";
          const state = derived ? "connected" : reported;
          const since = derived ? sender.status.since : session.since;
          return (
            <tr key={driver}>
              <th scope="row">
                {index === 0 ? "Primary" : "Fallback"}: {DRIVER_NAMES[driver] ?? driver}
                {session.error ? <span className="cell-note">{session.error}</span> : null}
              </th>
              <td>
                <SenderBadge state={state} />
              </td>
              <td>{since ? formatRelative(since) : "—"}</td>
              <td className="cell-actions">
                {canManage ? (
                  <>
                    <button
                      type="button"
                      className="button button--small button--primary"
                      disabled={command.isPending}
                      onClick={() => command.mutate({ kind: "link", driver })}
                    >
                      {state === "connected" ? "Relink" : state === "linking" ? "New code" : "Link"}
                      <span className="visually-hidden">
                        {state === "linking" ? " for" : ""} the {index === 0 ? "primary" : "fallback"} connection of {title}
                      </span>
                    </button>
                    {state === "connected" || state === "linking" || state === "disconnected" ? (
                      <ConfirmButton
                        className="button--small"
                        question={`Log out ${driver}? The phone will show this device as removed.`}
                        confirmLabel="Log out"
                        onConfirm={() => command.mutateAsync({ kind: "logout", driver })}
                      >
                        Log out<span className="visually-hidden"> the {index === 0 ? "primary" : "fallback"} connection of {title}</span>
                      </ConfirmButton>
                    ) : null}
                  </>
                ) : null}
              </td>
            </tr>
          );
        })}
      </DataTable>

      {showLink && canManage ? (
        <div className="link-panel">
          {connectedDriver && !linkingNow ? (
            <Notice tone="success" live>
              Linked: the {linkingDriver} connection is up. You can send from this number.
            </Notice>
          ) : (
            <div className="link-grid">
              <div>
                <h3>Link {shownDriver ? `the ${shownDriver} connection` : "this number"}</h3>
                <ol className="steps">
                  <li>Open WhatsApp on the phone of {sender.phone ?? "this number"}.</li>
                  <li>Go to Settings → Linked devices → Link a device.</li>
                  <li>{usePairing ? "Choose Link with phone number instead, and type the code shown here." : "Point the phone at this code."}</li>
                </ol>
                {qrPossible ? (
                  <button type="button" className="button button--link" onClick={() => setPairing((p) => !p)} aria-expanded={pairing}>
                    {pairing ? "Use the QR code instead" : "Link with a phone number instead (pairing code)"}
                  </button>
                ) : (
                  <p className="muted">
                    The number is already connected through another connection, so this one links with a pairing code: on the phone,
                    choose Link with phone number instead.
                  </p>
                )}
                {usePairing ? <PairingCode sender={sender} driver={shownDriver} /> : null}
              </div>
              {!usePairing ? <QrCode senderId={sender.id} label={`QR code to link ${title}${shownDriver ? ` (${shownDriver})` : ""}`} /> : null}
            </div>
          )}
        </div>
      ) : null}

      <div className="pace-summary">
        <div>
          <h3>Pace of this number</h3>
          <p>
            {describePolicy(sender.pacing)}. Campaigns from this number can go slower, never faster.
          </p>
        </div>
        {canManage && !editingPace ? (
          <button type="button" className="button button--secondary button--small" onClick={() => setEditingPace(true)}>
            Change pace
          </button>
        ) : null}
      </div>
      {editingPace ? <PaceForm sender={sender} onDone={() => setEditingPace(false)} /> : null}

      {canManage ? (
        <div className="card-footer">
          <ConfirmButton
            question={`Delete ${title}? Its sessions are logged out and forgotten.`}
            confirmLabel="Delete number"
            onConfirm={() => remove.mutateAsync()}
          >
            Delete number
          </ConfirmButton>
        </div>
      ) : null}
    </section>
  );
}

function PairingCode({ sender, driver }: { sender: Sender; driver: string | null }) {
  const queryClient = useQueryClient();
  const [phone, setPhone] = useState(sender.phone ?? "");
  const form = useFormErrors(["phone", "driver"]);
  const ask = useMutation({
    mutationFn: () =>
      call(
        api.POST("/api/senders/{sender_id}/pairing-code", {
          params: { path: { sender_id: sender.id } },
          body: { phone: phone || null, driver },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.senders }),
    onError: (error) => form.fail(error),
  });
  return (
    <div className="pairing">
      <form
        ref={form.formRef}
        onSubmit={(event) => {
          event.preventDefault();
          form.clear();
          ask.mutate();
        }}
        noValidate
      >
        <FormError message={form.errors.general} />
        <Field label="The number's phone" error={form.of("phone")}>
          <input type="tel" value={phone} onChange={(e) => setPhone(e.target.value)} />
        </Field>
        <button type="submit" className="button button--secondary button--small" disabled={ask.isPending}>
          Get a pairing code
        </button>
      </form>
      {sender.status.pairing_code ? (
        <p className="pairing-code" role="status">
          On the phone: Linked devices → Link a device → Link with phone number instead, then type{" "}
          <strong className="code">{sender.status.pairing_code}</strong>
        </p>
      ) : ask.isSuccess ? (
        <p role="status">Waiting for the code…</p>
      ) : null}
    </div>
  );
}

function PaceForm({ sender, onDone }: { sender: Sender; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [pacing, setPacing] = useState<PacingPolicy>(sender.pacing);
  const form = useFormErrors(["pacing"]);
  const save = useMutation({
    mutationFn: () => call(api.PATCH("/api/senders/{sender_id}", { params: { path: { sender_id: sender.id } }, body: { pacing } })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: keys.senders });
      onDone();
    },
    onError: (error) => form.fail(error),
  });
  const ageDays = Math.floor((Date.now() - Date.parse(sender.created_at)) / 86_400_000);
  return (
    <form
      ref={form.formRef}
      className="pace-form"
      onSubmit={(event) => {
        event.preventDefault();
        form.clear();
        save.mutate();
      }}
      noValidate
    >
      <FormError message={form.errors.general} />
      <PacingEditor
        legend="Pace of this number (no campaign from it goes faster)"
        value={pacing}
        onChange={(value) => value && setPacing(value)}
        errorOf={(field) => form.of(`pacing.${field}`) ?? (field === "preset" ? form.of("pacing") : undefined)}
        count={100}
        senderAgeDays={ageDays}
      />
      <div className="actions">
        <button type="submit" className="button button--primary" disabled={save.isPending}>
          Save pace
        </button>
        <button type="button" className="button button--secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
