/**
 * The Durable Object that holds every topic's config, the site keys and the group names:
 * a thin adapter over the core's RegistryService (the same service the Node host runs
 * in-process). One instance per deployment; the Worker caches what it reads for a few
 * seconds, so it is not on the hot path.
 */
import { DurableObject } from "cloudflare:workers";
import type { Quotas } from "../core/auth/settings.ts";
import type { SiteKey } from "../core/auth/site-keys.ts";
import type { Admitted, RegistryPort } from "../core/port.ts";
import { RegistryService } from "../core/registry.ts";
import type { CreateOutcome, Topic } from "../core/topic-store.ts";
import type { TopicConfig } from "../core/types.ts";
import { durableObjectSql } from "./do-sql-driver.ts";
import type { Env } from "./env.ts";

export class TopicRegistry extends DurableObject<Env> implements RegistryPort {
  private readonly registry: RegistryService;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.registry = new RegistryService(durableObjectSql(ctx.storage), Date.now, console.error);
  }

  async get(name: string): Promise<Topic | null> {
    return this.registry.get(name);
  }

  async list(): Promise<Topic[]> {
    return this.registry.list();
  }

  async create(name: string, config: TopicConfig, quotas: Quotas | null): Promise<CreateOutcome> {
    return this.registry.create(name, config, quotas);
  }

  async ensure(name: string, defaults: TopicConfig, quotas: Quotas | null): Promise<CreateOutcome> {
    return this.registry.ensure(name, defaults, quotas);
  }

  async remove(name: string): Promise<Topic | null> {
    return this.registry.remove(name);
  }

  async addSiteKey(site: SiteKey, max: number): Promise<Admitted> {
    return this.registry.addSiteKey(site, max);
  }

  async listSiteKeys(): Promise<SiteKey[]> {
    return this.registry.listSiteKeys();
  }

  async removeSiteKey(id: string): Promise<boolean> {
    return this.registry.removeSiteKey(id);
  }

  async addGroup(name: string, max: number): Promise<Admitted> {
    return this.registry.addGroup(name, max);
  }

  async listGroups(): Promise<string[]> {
    return this.registry.listGroups();
  }

  async removeGroup(name: string): Promise<void> {
    return this.registry.removeGroup(name);
  }
}
