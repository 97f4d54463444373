/**
 * `tessera <group> <command> [args]`. Each group is a module scripts/cli/<group>.ts exporting
 * `run(args: string[]): Promise<number>` (the exit code) and `usage: string`, so groups are added
 * without touching this file.
 */
const GROUP_RE = /^[a-z][a-z-]{0,31}$/;
const GROUPS: Record<string, string> = {
  ticket: "verify offline tickets and exports",
  license: "governance keys, theater licenses and theater keys",
  audit: "verify audit log segments",
  backup: "verify theater backups",
  store: "a store's cluster membership: mark it restored, run its rejoin walk",
};

interface Group {
  run(args: string[]): Promise<number>;
  usage: string;
}

export async function main(argv: string[]): Promise<number> {
  const [group, ...rest] = argv;
  if (!group || group === "--help" || group === "-h" || !GROUP_RE.test(group) || !GROUPS[group]) {
    console.error("usage: tessera <group> <command> [args]\n");
    for (const [g, what] of Object.entries(GROUPS)) console.error(`  ${g.padEnd(10)} ${what}`);
    return group && group !== "--help" && group !== "-h" ? 2 : 0;
  }
  let mod: Group;
  try {
    mod = (await import(`./${group}.ts`)) as Group;
  } catch (e) {
    console.error(`tessera ${group}: not available (${String(e)})`);
    return 2;
  }
  if (rest[0] === "--help" || rest[0] === "-h" || rest.length === 0) {
    console.error(mod.usage);
    return rest.length === 0 ? 2 : 0;
  }
  return mod.run(rest);
}
