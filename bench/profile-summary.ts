import { readFile } from 'node:fs/promises';
import path from 'node:path';

// Sums a .cpuprofile (from `node --cpu-prof` or bench/profile-requests.ts --profile-dir) by package and by
// function: self time (where the CPU was) and total time (self plus what the function called, each sample
// counted once per function even under recursion), divided by `--per N` (requests in the window) when given.
//
//   node --import @swc-node/register/esm-register bench/profile-summary.ts FILE.cpuprofile [--per 300]
//     [--top 40] [--match graphql-armor]   (--match: only functions whose package or name contains it)

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const index = args.indexOf(`--${name}`);
  return index === -1 ? undefined : args[index + 1];
};
const file = args[0];
if (file === undefined) throw new Error('usage: profile-summary.ts FILE.cpuprofile [--per N] [--top N]');
const per = Number(option('per') ?? 1);
const top = Number(option('top') ?? 40);
const match = option('match');

/** The package a frame belongs to (`@apollo/server`, `graphql`), `src/...` for our code, `node:` internals. */
function packageOf(url: string): string {
  if (url === '') return '(native)';
  if (url.startsWith('node:')) return url;
  const modules = url.lastIndexOf('node_modules/');
  if (modules !== -1) {
    const [scope, name] = url.slice(modules + 'node_modules/'.length).split('/');
    return scope?.startsWith('@') ? `${scope}/${name}` : (scope ?? url);
  }
  const src = url.indexOf('/src/');
  return src === -1 ? path.basename(url) : url.slice(src + 1).replace(/\/[^/]*$/, '');
}

const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

const label = (frame: CallFrame) =>
  frame.url === ''
    ? `${frame.functionName || '(anonymous)'} (native)`
    : `${frame.functionName || '(anonymous)'} ${packageOf(frame.url)} ${path.basename(frame.url)}:${frame.lineNumber + 1}`;
const selfByPackage = new Map<string, number>();
const selfByFunction = new Map<string, number>();
const totalByFunction = new Map<string, number>();
const totalByPackage = new Map<string, number>();
const byOutermost = new Map<string, number>();
const add = (map: Map<string, number>, key: string, ms: number) => map.set(key, (map.get(key) ?? 0) + ms);
let totalMs = 0;
let idleMs = 0;
profile.samples.forEach((id, index) => {
  // A sample's time is the delta to the next one (the last sample's is unknown: its own delta stands in).
  const ms = (profile.timeDeltas[index + 1] ?? profile.timeDeltas[index] ?? 0) / 1000;
  const node = byId.get(id);
  if (node === undefined) return;
  if (node.callFrame.functionName === '(idle)') {
    idleMs += ms;
    return;
  }
  totalMs += ms;
  add(selfByPackage, packageOf(node.callFrame.url), ms);
  add(selfByFunction, label(node.callFrame), ms);
  const functions = new Set<string>();
  const packages = new Set<string>();
  let outermost = packageOf(node.callFrame.url);
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    const frame = byId.get(at)?.callFrame;
    if (frame === undefined) continue;
    functions.add(label(frame));
    const name = packageOf(frame.url);
    packages.add(name);
    if (name !== '(native)' && !name.startsWith('node:')) outermost = name;
  }
  add(byOutermost, outermost, ms);
  for (const name of functions) add(totalByFunction, name, ms);
  for (const name of packages) add(totalByPackage, name, ms);
});

const print = (title: string, map: Map<string, number>) => {
  console.log(`\n${title}`);
  const rows = [...map].filter(([name]) => match === undefined || name.includes(match));
  for (const [name, ms] of rows.sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(ms / per).toFixed(3).padStart(9)} ms  ${name}`);
  }
};
console.log(
  `${file}: ${(totalMs / per).toFixed(3)} ms busy, ${(idleMs / per).toFixed(3)} ms idle` +
    (per === 1 ? '' : ` per request (${per})`),
);
print('self time by package', selfByPackage);
print('total time by package (self + callees)', totalByPackage);
// With async code a stack begins where a promise continuation resumed: its outermost package is who ran.
print('by outermost package on the stack (who was running, callees included)', byOutermost);
print('self time by function', selfByFunction);
print('total time by function', totalByFunction);
