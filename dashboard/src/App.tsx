import { AuthOffNotice, WhoAmI } from "./components/Auth.tsx";
import { ConnectionBanner, ConnectionPill } from "./components/Connection.tsx";
import { Link } from "./components/Link.tsx";
import { useDash } from "./hooks.ts";
import { Overview } from "./pages/Overview.tsx";
import { Produce } from "./pages/Produce.tsx";
import { Tail } from "./pages/Tail.tsx";
import { TopicPage } from "./pages/TopicPage.tsx";
import { Topics } from "./pages/Topics.tsx";
import type { Page } from "./store/state.ts";

const NAV: Array<{ href: string; label: string; pages: Page[]; icon: string }> = [
  { href: "/", label: "Overview", pages: ["overview"], icon: "◔" },
  { href: "/topics", label: "Topics", pages: ["topics", "topic"], icon: "☰" },
  { href: "/tail", label: "Live tail", pages: ["tail"], icon: "≋" },
  { href: "/produce", label: "Produce", pages: ["produce"], icon: "↗" },
];

export function App() {
  const route = useDash((s) => s.route);
  const url = useDash((s) => s.connection.url);
  return (
    <div className="shell">
      <aside className="sidebar">
        <Link href="/" className="brand" aria-label="Kaiten overview">
          <span className="brand-mark" aria-hidden="true">
            <i />
            <i />
            <i />
          </span>
          Kaiten
        </Link>
        <nav aria-label="Main">
          {NAV.map((n) => (
            <Link
              key={n.href}
              href={n.href}
              className="nav-link"
              aria-current={n.pages.includes(route.page) ? "page" : undefined}
            >
              <span className="nav-icon" aria-hidden="true">
                {n.icon}
              </span>
              {n.label}
            </Link>
          ))}
        </nav>
        <div className="sidebar-foot">
          <WhoAmI />
          <ConnectionPill />
          <div className="broker-url" title="Broker">
            {url.replace(/^https?:\/\//, "")}
          </div>
        </div>
      </aside>
      <main className="main">
        <AuthOffNotice />
        <ConnectionBanner />
        <CurrentPage />
      </main>
    </div>
  );
}

function CurrentPage() {
  const route = useDash((s) => s.route);
  switch (route.page) {
    case "overview":
      return <Overview />;
    case "topics":
      return <Topics />;
    case "topic":
      return <TopicPage key={route.topic} name={route.topic ?? ""} />;
    case "tail":
      return <Tail />;
    case "produce":
      return <Produce />;
    default:
      return (
        <section className="page">
          <h1>Page not found</h1>
          <p className="muted">
            There is nothing at this address. <Link href="/">Go to the overview</Link>.
          </p>
        </section>
      );
  }
}
