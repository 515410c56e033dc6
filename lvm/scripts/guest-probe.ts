// Probe: can the guest run the project's TypeScript from the 9p share with the host's node_modules (tsx)?
import { LV_FIELDS } from '../src/fields.ts';
console.log(JSON.stringify({ ok: true, fields: LV_FIELDS.length, node: process.version }));
