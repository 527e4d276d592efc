/**
 * What `demo up` leaves running, in its state directory (DEMO_DIR, default
 * /tmp/todo-gitops-demo), so that `demo down` finds all of it, also after an
 * `up` that failed or was interrupted half-way:
 *
 *   demo.json      every process started (name, pid, start time, whether it leads its own
 *                  process group), written as each one starts; the URLs once printed
 *   cluster/       the cluster program's directory (`cluster down` removes it and all it started)
 *   git/           the served clone of this repository (git daemon's base path)
 *   argocd/        Argo CD's logs and scratch
 *   logs/          git daemon, port-forward and view logs
 */
import * as fs from 'fs';
import * as path from 'path';
import { running } from '../cluster/sys';

export const DEFAULT_DEMO_DIR = '/tmp/todo-gitops-demo';

/** A process `up` started and `down` stops. */
export interface DemoProcess {
  readonly name: string;
  readonly pid: number;
  /** Field 22 of /proc/PID/stat when it started: a pid reused by another process is not touched. */
  readonly startTime: string;
  /** Started detached: its pid is its process group, stopped as a whole (the view's kubectl children). */
  readonly group: boolean;
}

/** The URLs `up` printed. */
export interface DemoUrls {
  /** The todo service's web page, through kubectl port-forward on 127.0.0.1. */
  readonly todo: string;
  /** `view --cluster` with its one-time token. */
  readonly view: string;
  /** The served repository (git daemon). */
  readonly git: string;
  /** The cluster's kubeconfig. */
  readonly kubeconfig: string;
}

interface StateFile {
  processes: DemoProcess[];
  urls?: DemoUrls;
}

/** The start time of `pid` (field 22 of /proc/PID/stat), or undefined when it does not exist. */
export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf-8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether the recorded process is still the one that was started (same pid and start time) and not a zombie. */
export function stillRunning(p: DemoProcess): boolean {
  return running(p.pid) && startTimeOf(p.pid) === p.startTime;
}

export class DemoState {
  public static stateFile(dir: string): string {
    return path.join(dir, 'demo.json');
  }

  /** The state of `dir`, empty when there is none. */
  public static read(dir: string): DemoState {
    const file = DemoState.stateFile(dir);
    const state = new DemoState(dir);
    if (fs.existsSync(file)) Object.assign(state.data, JSON.parse(fs.readFileSync(file, 'utf-8')));
    return state;
  }

  private readonly data: StateFile = { processes: [] };

  constructor(public readonly dir: string) {}

  public get processes(): readonly DemoProcess[] {
    return this.data.processes;
  }

  public get urls(): DemoUrls | undefined {
    return this.data.urls;
  }

  public path(...parts: string[]): string {
    return path.join(this.dir, ...parts);
  }

  /** Records a process that has just started. */
  public addProcess(name: string, pid: number, group: boolean): void {
    this.data.processes.push({ name, pid, group, startTime: startTimeOf(pid) ?? '' });
    this.save();
  }

  public setUrls(urls: DemoUrls): void {
    this.data.urls = urls;
    this.save();
  }

  private save(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const file = DemoState.stateFile(this.dir);
    fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(this.data, null, 2)}\n`);
    fs.renameSync(`${file}.tmp`, file);
  }
}
