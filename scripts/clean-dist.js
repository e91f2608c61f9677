#!/usr/bin/env node
// npm pack / publish run this before `prepare` builds: dist/ then holds exactly what src/ compiles
// to, never files left behind by a moved or deleted module.
import { rmSync } from "node:fs";

rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
