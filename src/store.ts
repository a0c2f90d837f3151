// The app's state: what the user chose and what came back from the engine worker.
import { create } from 'zustand';
import type { AdapterReport } from './engine/backend';
import type { BackendName } from './engine/backendNames';
import type { SchedulePlan, SchedulePlanRequest } from './engine/schedulePlan';

export interface EngineStatus {
  state: 'starting' | 'ready' | 'failed';
  backend: BackendName | null;
  reason: string;
  failures: string[];
  adapter: AdapterReport | null;
  tfjsVersion: string;
  selfCheckOk: boolean;
}

export interface AppState {
  engine: EngineStatus;
  /** Backend the user asked for (URL or menu); null = choose automatically. */
  backendChoice: BackendName | null;
  planRequest: SchedulePlanRequest;
  plan: SchedulePlan | null;
  messages: string[];
  setEngine(status: Partial<EngineStatus>): void;
  setBackendChoice(choice: BackendName | null): void;
  setPlanRequest(patch: Partial<SchedulePlanRequest>): void;
  setPlan(plan: SchedulePlan): void;
  addMessage(message: string): void;
  dismissMessage(index: number): void;
}

export const useAppStore = create<AppState>((set) => ({
  engine: {
    state: 'starting',
    backend: null,
    reason: '',
    failures: [],
    adapter: null,
    tfjsVersion: '',
    selfCheckOk: false,
  },
  backendChoice: null,
  planRequest: {
    sampler: 'DPM++ 2M',
    steps: 20,
    betaSchedule: 'squaredcos_cap_v2',
    timestepSpacing: 'linspace',
    karras: false,
  },
  plan: null,
  messages: [],
  setEngine: (status) => set((s) => ({ engine: { ...s.engine, ...status } })),
  setBackendChoice: (backendChoice) => set({ backendChoice }),
  setPlanRequest: (patch) => set((s) => ({ planRequest: { ...s.planRequest, ...patch } })),
  setPlan: (plan) => set({ plan }),
  addMessage: (message) => set((s) => ({ messages: [...s.messages, message] })),
  dismissMessage: (index) => set((s) => ({ messages: s.messages.filter((_, i) => i !== index) })),
}));
