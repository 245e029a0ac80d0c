import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, call, fetchFile } from "../api/client";
import { ApiError } from "../api/errors";
import { LINKING_MS, keys } from "../api/queries";

/**
 * The QR code of a sender being linked, live: /qr is polled every 2 s and the image (/qr.svg, fetched with
 * the session's token) is fetched again whenever the code changes, as WhatsApp rotates it.
 */
export function QrCode({ senderId, label }: { senderId: string; label: string }) {
  const qr = useQuery({
    queryKey: keys.qr(senderId),
    queryFn: async () => {
      try {
        return await call(api.GET("/api/senders/{sender_id}/qr", { params: { path: { sender_id: senderId } } }));
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return null; // no code yet, or linked already
        throw error;
      }
    },
    refetchInterval: LINKING_MS,
  });
  const version = qr.data?.updated_at ?? null;
  const image = useQuery({
    queryKey: [...keys.qr(senderId), "svg", version],
    queryFn: () => fetchFile(`/api/senders/${encodeURIComponent(senderId)}/qr.svg`),
    enabled: !!version,
    staleTime: Infinity,
  });
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!image.data) return;
    const objectUrl = URL.createObjectURL(image.data);
    setUrl(objectUrl);
    return () => URL.revokeObjectURL(objectUrl);
  }, [image.data]);

  if (!qr.data) {
    return (
      <div className="qr qr--waiting" role="status">
        <span className="spinner" aria-hidden="true" /> Waiting for WhatsApp to give a QR code…
      </div>
    );
  }
  return (
    <figure className="qr">
      {url ? <img src={url} alt={label} width={240} height={240} /> : <span className="spinner" aria-hidden="true" />}
      <figcaption>
        {qr.data.driver ? `For the ${qr.data.driver} connection. ` : ""}The code changes every so often; this one is live.
      </figcaption>
    </figure>
  );
}
