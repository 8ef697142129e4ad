import type { Redis } from "ioredis";

/**
 * The tally hash in durable mode carries two bookkeeping fields besides one field per option. Their names
 * start with a comma, which no option can contain (VOTE_OPTIONS is comma-separated), so they never collide.
 * - EPOCH_FIELD: id of the `tally_epochs` row of the rebuild or reset that wrote this hash. A hash without it
 *   is not a tally the database knows (an empty cache, or counts from before the database was configured).
 * - RUN_ID_FIELD: the Redis server's run_id at that moment. A different run_id now means the server restarted
 *   or failed over since, and may have kept (AOF, a replica) all but its last writes: the tally is rebuilt.
 */
export const EPOCH_FIELD = ",epoch";
export const RUN_ID_FIELD = ",redis-run-id";

// Count a vote only in a tally that has an epoch, and say which: the vote is recorded with that epoch, which
// tells the writer later whether a rebuild since then has already counted it (see durable-votes.ts).
const VOTE_IN_EPOCH = `
local epoch = redis.call('HGET', KEYS[1], ARGV[2])
if not epoch then return false end
return {redis.call('HINCRBY', KEYS[1], ARGV[1], 1), epoch}`;

// Add counts only if the tally is still at the given epoch (else a later rebuild has counted them already).
const ADD_IN_EPOCH = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
for i = 3, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1`;

// Replace the whole hash at once (rebuild and reset).
const REPLACE = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`;

interface TallyCommands {
  voteInEpoch(key: string, option: string, epochField: string): Promise<[number, string] | null>;
  addInEpoch(key: string, epochField: string, epoch: string, ...pairs: (string | number)[]): Promise<number>;
  replaceTally(key: string, ...fieldsAndValues: (string | number)[]): Promise<number>;
}

/** Registers the scripts on a client (ioredis sends EVALSHA and falls back to EVAL after a Redis restart). */
export function tallyCommands(client: Redis): TallyCommands {
  client.defineCommand("voteInEpoch", { numberOfKeys: 1, lua: VOTE_IN_EPOCH });
  client.defineCommand("addInEpoch", { numberOfKeys: 1, lua: ADD_IN_EPOCH });
  client.defineCommand("replaceTally", { numberOfKeys: 1, lua: REPLACE });
  return client as unknown as TallyCommands;
}

/** The server's run_id: new on every start of redis-server, and different on a failed-over replica. */
export async function redisRunId(client: Redis): Promise<string> {
  const info = await client.info("server");
  const match = /^run_id:(\w+)/m.exec(info);
  if (!match?.[1]) throw new Error("Redis INFO server has no run_id");
  return match[1];
}
