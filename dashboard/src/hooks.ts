/** The thin binding: components read the vanilla store with zustand's useStore. */
import { createContext, useContext } from "react";
import { useStore } from "zustand";
import { denied, type Right } from "./store/auth.ts";
import type { Dashboard } from "./store/dashboard.ts";
import type { DashboardState } from "./store/state.ts";

export const DashboardContext = createContext<Dashboard | null>(null);

function useDashboard(): Dashboard {
  const d = useContext(DashboardContext);
  if (!d) throw new Error("no DashboardContext");
  return d;
}

/** A slice of the state; the component re-renders when the selected value changes (Object.is). */
export function useDash<T>(selector: (s: DashboardState) => T): T {
  return useStore(useDashboard().store, selector);
}

export function useActions(): Dashboard["actions"] {
  return useDashboard().actions;
}

/** Signing in and out (there is no session before the first sign-in). */
export function useAuth(): Dashboard["auth"] {
  return useDashboard().auth;
}

/** Why the signed-in token may not take this action, or null when it may (store/auth.ts). */
export function useDenied(right: Right, topic?: string): string | null {
  return useDash((s) => denied(s.auth, right, topic));
}
