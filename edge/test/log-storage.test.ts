/**
 * The storage suite (edge/suites/log-storage.ts) over Durable Object SQLite, inside workerd:
 * each test runs inside a fresh partition object, on its own storage.
 */
import { runInDurableObject } from "cloudflare:test";
import { durableObjectSql } from "../src/cloudflare/do-sql-driver.ts";
import { SqliteLogStorage } from "../src/core/sqlite-log-storage.ts";
import { logStorageSuite } from "../suites/log-storage.ts";
import { partitionStub, uniqueTopic } from "./helpers.ts";

logStorageSuite("Durable Object SQLite", (test) =>
  runInDurableObject(partitionStub(uniqueTopic("storage")), async (_, state) => {
    const open = () => new SqliteLogStorage(durableObjectSql(state.storage));
    const storage = open();
    // The object's constructor already wrote its first meta row: start from an empty log.
    storage.deleteAll();
    await test({ storage, reopen: open });
  }),
);
