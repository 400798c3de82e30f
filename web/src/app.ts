/** What every page shares: the markets, the logged-in user, the live feeds and navigation. */

import { get, json } from "./api";
import { MarketFeed, UserFeed } from "./live";
import { Markets } from "./markets";
import type { User } from "./types";

export interface WebConfig {
  wsUrl: string;
}

type UserListener = (user: User | null) => void;

export class App {
  user: User | null = null;
  private userListeners = new Set<UserListener>();

  constructor(
    readonly config: WebConfig,
    readonly markets: Markets,
    readonly feed: MarketFeed,
    readonly userFeed: UserFeed,
    readonly navigate: (path: string) => void,
  ) {}

  static async load(navigate: (path: string) => void): Promise<App> {
    const [config, markets, session] = await Promise.all([
      get<WebConfig>("/api/web/config"),
      Markets.load(),
      get<{ user: User | null }>("/api/web/session"),
    ]);
    const app = new App(config, markets, new MarketFeed(config.wsUrl), new UserFeed(config.wsUrl), navigate);
    app.userFeed.onLoggedOut = () => {
      app.setUser(null);
      navigate(`/login?next=${encodeURIComponent(location.pathname)}`);
    };
    app.setUser(session.user);
    return app;
  }

  onUser(fn: UserListener): () => void {
    this.userListeners.add(fn);
    return () => this.userListeners.delete(fn);
  }

  setUser(user: User | null): void {
    this.user = user;
    if (user) this.userFeed.begin();
    else void this.userFeed.end();
    // A copy: a listener may re-render a page, which registers new listeners.
    for (const fn of [...this.userListeners]) fn(user);
  }

  async logIn(email: string, password: string, signUp: boolean): Promise<void> {
    const user = await json<User>("POST", signUp ? "/api/web/signup" : "/api/web/login", { email, password });
    this.setUser(user);
  }

  async logOut(): Promise<void> {
    await this.userFeed.end();
    await json("POST", "/api/web/logout");
    this.setUser(null);
  }
}

/** A page draws into `root` and returns what undoes its subscriptions and timers. */
export type Page = (app: App, root: HTMLElement, params: Record<string, string>) => () => void;
