/**
 * `npx kaiten` (edge/bin/kaiten.mjs): tokens and site keys for a deployment without JWT
 * code of one's own (README, "Securing a deployment").
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { AUDIENCE, bearer, ISSUER, jwtVars, SECRET, testKeys } from "../lib/auth.ts";
import { useBroker } from "../lib/broker.ts";
import { call, postJson } from "../lib/http.ts";
import { brokerOf, type HostUnderTest } from "./hosts.ts";

const keys = await testKeys();
const CLI = join(dirname(fileURLToPath(import.meta.url)), "../../edge/bin/kaiten.mjs");

export function cliSuite(host: HostUnderTest): void {
  describe(`npx kaiten on ${host.name}`, () => {
    const broker = useBroker(brokerOf(host, jwtVars(keys)));

    async function kaiten(...args: string[]): Promise<string> {
      const env = { ...process.env, KAITEN_JWT_ISSUER: ISSUER, KAITEN_JWT_AUDIENCE: AUDIENCE };
      const { stdout } = await promisify(execFile)(process.execPath, [CLI, ...args], { env });
      return stdout.trim();
    }

    describe("npx kaiten", () => {
      it("mints a token whose rights the broker honours", async () => {
        const token = await kaiten(
          "token",
          "--scope",
          "produce:cli.* create:cli.*",
          "--ttl",
          "10m",
          "--secret",
          SECRET,
        );
        const url = broker().url;
        const ok = await postJson(
          `${url}/v1/topics/cli.events/records`,
          { records: [{ value: 1 }] },
          bearer(token),
        );
        expect(ok.status).toBe(200);
        const refused = await call(`${url}/v1/topics/cli.events/partitions/0/records`, {
          headers: bearer(token),
        });
        expect(refused.status).toBe(403);
      });

      it("creates, lists and revokes site keys with an admin token minted from the secret", async () => {
        const url = broker().url;
        const created = JSON.parse(
          await kaiten(
            "site-key",
            "create",
            "--url",
            url,
            "--secret",
            SECRET,
            "--origin",
            "https://a.example",
            "--topic",
            "cli.*",
          ),
        ) as { id: string; key: string };
        expect(created.key).toMatch(/^pk_/);
        const listed = JSON.parse(
          await kaiten("site-key", "list", "--url", url, "--secret", SECRET),
        );
        expect(listed.siteKeys.map((k: { id: string }) => k.id)).toContain(created.id);
        await kaiten("site-key", "revoke", created.id, "--url", url, "--secret", SECRET);
        const after = JSON.parse(
          await kaiten("site-key", "list", "--url", url, "--secret", SECRET),
        );
        expect(after.siteKeys).toEqual([]);
      });

      it("generates a key pair whose public JWKS verifies tokens signed with the private key", async () => {
        const pair = JSON.parse(await kaiten("keygen", "--alg", "EdDSA", "--kid", "k1"));
        const file = join(mkdtempSync(join(tmpdir(), "kaiten-cli-")), "private.jwk");
        writeFileSync(file, JSON.stringify(pair.privateJwk));
        const token = await kaiten("token", "--scope", "subscribe:x", "--key", file);
        const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(pair.jwks));
        expect(protectedHeader).toMatchObject({ alg: "EdDSA", kid: "k1" });
        expect(payload.scope).toBe("subscribe:x");
      });
    });
  });
}
