import { useEffect, useState, type FormEvent } from "react";
import { Link, Navigate, useLocation, useNavigate } from "react-router";
import { api, call } from "../api/client";
import { ApiError } from "../api/errors";
import { nextPath } from "../auth/RequireAuth";
import { sessions } from "../auth/session";
import { useSession } from "../auth/useSession";
import { Field } from "../components/Field";
import { FormError, Notice } from "../components/feedback";
import { useFormErrors } from "../lib/useFormErrors";

function AuthFrame({ title, children }: { title: string; children: React.ReactNode }) {
  useEffect(() => {
    document.title = `${title} · wacast`;
  }, [title]);
  return (
    <main className="auth" id="main">
      <div className="auth-card">
        <p className="auth-brand">
          <span className="brand-mark" aria-hidden="true">
            w
          </span>{" "}
          wacast
        </p>
        <h1>{title}</h1>
        {children}
      </div>
    </main>
  );
}

export function SignIn() {
  const session = useSession();
  const location = useLocation();
  const navigate = useNavigate();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const form = useFormErrors(["email", "password"]);
  const reason = sessions.lastReason;

  if (session) return <Navigate to={nextPath(location.search)} replace />;

  async function submit(event: FormEvent) {
    event.preventDefault();
    form.clear();
    setBusy(true);
    try {
      const started = await call(api.POST("/api/auth/login", { body: { email, password } }));
      sessions.start(started);
      navigate(nextPath(location.search), { replace: true });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        form.set({}, "That email and password do not match an account.");
      } else if (error instanceof ApiError && error.status === 429) {
        const minutes = error.retryAfter ? Math.ceil(error.retryAfter / 60) : 15;
        form.set({}, `Too many failed sign-ins for this email. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`);
      } else {
        form.fail(error);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthFrame title="Sign in">
      {reason === "expired" ? <Notice tone="warning">Your session ended. Sign in again to continue.</Notice> : null}
      <form ref={form.formRef} onSubmit={submit} noValidate>
        <FormError message={form.errors.general} />
        <Field label="Email" error={form.of("email")}>
          <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </Field>
        <Field label="Password" error={form.of("password")}>
          <input
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </Field>
        <button type="submit" className="button button--primary button--wide" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p className="auth-switch">
        New to wacast? <Link to={`/sign-up${location.search}`}>Create an account</Link>
      </p>
    </AuthFrame>
  );
}

export function SignUp() {
  const session = useSession();
  const navigate = useNavigate();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [accountName, setAccountName] = useState("");
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const form = useFormErrors(["email", "password", "account_name", "name"]);

  if (session) return <Navigate to="/" replace />;

  async function submit(event: FormEvent) {
    event.preventDefault();
    form.clear();
    setBusy(true);
    try {
      const body = { email, password, name: name.trim(), ...(accountName.trim() ? { account_name: accountName.trim() } : {}) };
      const started = await call(api.POST("/api/auth/register", { body }));
      sessions.start(started);
      navigate("/", { replace: true });
    } catch (error) {
      if (error instanceof ApiError && error.status === 403) {
        form.set({}, "Sign-up is closed on this installation. Ask its owner to add you (Settings → Users).");
      } else {
        form.fail(error);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthFrame title="Create your account">
      <form ref={form.formRef} onSubmit={submit} noValidate>
        <FormError message={form.errors.general} />
        <Field label="Business name" hint="Shown in the console; you can leave it empty." error={form.of("account_name")}>
          <input type="text" autoComplete="organization" value={accountName} onChange={(e) => setAccountName(e.target.value)} />
        </Field>
        <Field label="Your name" error={form.of("name")}>
          <input type="text" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field label="Email" error={form.of("email")}>
          <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </Field>
        <Field label="Password" hint="At least 8 characters." error={form.of("password")}>
          <input
            type="password"
            autoComplete="new-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </Field>
        <button type="submit" className="button button--primary button--wide" disabled={busy}>
          {busy ? "Creating…" : "Create account"}
        </button>
      </form>
      <p className="auth-switch">
        Already have an account? <Link to="/sign-in">Sign in</Link>
      </p>
    </AuthFrame>
  );
}
