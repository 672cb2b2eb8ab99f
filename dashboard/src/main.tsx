import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.tsx";
import { DashboardContext } from "./hooks.ts";
import { createDashboard } from "./store/dashboard.ts";
import "uplot/dist/uPlot.min.css";
import "./styles.css";

// `?broker=https://…` points the dashboard at another broker (which allows any origin).
const broker = new URLSearchParams(location.search).get("broker") ?? undefined;
const dashboard = createDashboard(broker ? { url: broker } : {});

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <DashboardContext.Provider value={dashboard}>
      <App />
    </DashboardContext.Provider>
  </StrictMode>,
);
