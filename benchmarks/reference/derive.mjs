// chainsig.js reference for benchmarks/bench_derive.py: derive the rows of a JSON-lines file
// in process and print {"rows", "seconds", "cpu_seconds", "last"} (derivation + address encoding
// only, as chainsig.js users call it; file reading is excluded from the timing). cpu_seconds is
// the process's user + system CPU over the same span (all of node's threads).
import { readFileSync } from "node:fs";
import { utils, constants } from "chainsig.js";
import { keccak256, getAddress } from "viem";

const { deriveChildPublicKey, deriveChildPublicKeyEd25519, najToUncompressedPubKeySEC1 } = utils.cryptography;
const roots = constants.ROOT_PUBLIC_KEYS.MAINNET;
const secpRoot = najToUncompressedPubKeySEC1(roots.secp256k1);
const rows = readFileSync(process.argv[2], "utf8").trim().split("\n").map((l) => JSON.parse(l));
const cpuStart = process.cpuUsage();
const start = process.hrtime.bigint();
let last = "";
for (const row of rows) {
  if (row.chain === "solana") {
    last = deriveChildPublicKeyEd25519(roots.ed25519, row.account, row.path).slice(8);
  } else {
    const pk = deriveChildPublicKey(secpRoot, row.account, row.path);
    last = getAddress(`0x${keccak256(`0x${pk.slice(2)}`).slice(-40)}`);
  }
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const cpu = process.cpuUsage(cpuStart);
const cpu_seconds = (cpu.user + cpu.system) / 1e6;
console.log(JSON.stringify({ rows: rows.length, seconds, cpu_seconds, last }));
