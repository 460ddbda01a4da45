// Prints the kernel cost table as the markdown table of packages/l4-kernel/README.md
// ("Cost table"), from the cited constants in l4-kernel's costs.ts.
// Run: node --conditions=@udf/source --import tsx scripts/cost-table.mts   (from packages/system)
import { COST_NAMES, MODERN_X86_3_0, PENTIUM4_XEON_2_66 } from '@udf/l4-kernel';

console.log('| cost | P4 Xeon 2.66 | kind | modern x86 | source (P4 row) |');
console.log('|---|---|---|---|---|');
for (const name of COST_NAMES) {
  const p4 = PENTIUM4_XEON_2_66.entries[name];
  const modern = MODERN_X86_3_0.entries[name];
  console.log(
    `| \`${name}\` | ${p4.cycles} | ${p4.estimate ? 'estimate' : 'published'} | ${modern.cycles} | ${p4.source} |`,
  );
}
