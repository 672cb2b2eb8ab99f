import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { DashboardContext } from "./hooks.ts";
import { Root } from "./Root.tsx";
import { createDashboard } from "./store/dashboard.ts";
import "uplot/dist/uPlot.min.css";
import "./styles.css";

// `?broker=https://…` points the dashboard at another broker (which allows any origin).
const broker = new URLSearchParams(location.search).get("broker") ?? undefined;
const dashboard = createDashboard(broker ? { url: broker } : {});

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <DashboardContext.Provider value={dashboard}>
      <Root />
    </DashboardContext.Provider>
  </StrictMode>,
);
