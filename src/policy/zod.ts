/**
 * The zod every schema is written with: zod/mini, the tree-shakable functional API of zod 4
 * (checks are functions: `z.string().check(z.maxLength(63))`, wrappers too: `z.optional(s)`),
 * so the Worker bundle carries only what the schemas use. Same core, same issues, and with the
 * English locale configured here the same messages as zod's classic API.
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";

z.config(en());

export * from "zod/mini";
