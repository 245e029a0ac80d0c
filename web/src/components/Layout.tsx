import { useEffect, useState } from "react";
import { NavLink, Outlet, useLocation } from "react-router";
import { useMe } from "../api/queries";
import { sessions } from "../auth/session";
import { useSession, useSessionExpiry } from "../auth/useSession";

const NAV = [
  { to: "/", label: "Overview", end: true },
  { to: "/campaigns", label: "Campaigns" },
  { to: "/conversations", label: "Conversations" },
  { to: "/contacts", label: "Contacts" },
  { to: "/templates", label: "Templates" },
  { to: "/numbers", label: "Numbers" },
  { to: "/analytics", label: "Analytics" },
  { to: "/settings", label: "Settings" },
];

/** The frame of every signed-in page: the account, the navigation (a menu at phone width) and sign-out. */
export function Layout() {
  const session = useSession();
  useSessionExpiry(session);
  const me = useMe();
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();

  useEffect(() => setMenuOpen(false), [location.pathname]);
  useEffect(() => {
    if (me.data) sessions.refresh(me.data.user, me.data.account);
  }, [me.data]);

  if (!session) return null;
  const { user, account } = session;
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            w
          </span>
          <span className="brand-name">wacast</span>
          <span className="brand-account" title="Account">
            {account.name}
          </span>
        </div>
        <button
          type="button"
          className="menu-toggle button button--secondary button--small"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen((open) => !open)}
        >
          Menu
        </button>
        <div className="topbar-user">
          <span className="user-email" title={user.email}>
            {user.name || user.email}
          </span>
          <span className="user-role">{user.role}</span>
          <button type="button" className="button button--secondary button--small" onClick={() => sessions.clear("signed-out")}>
            Sign out
          </button>
        </div>
      </header>
      <div className="shell">
        <nav id="main-nav" aria-label="Main" className={`sidenav${menuOpen ? " sidenav--open" : ""}`}>
          <ul>
            {NAV.map((item) => (
              <li key={item.to}>
                <NavLink to={item.to} end={item.end}>
                  {item.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>
          <Outlet />
        </main>
      </div>
    </div>
  );
}
