#!/usr/bin/env node
// `npm run build` starts from an empty dist/, so a package never ships files of an older
// build (a spec compiled by hand, a module since deleted).
import { rmSync } from 'node:fs';
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
