import type { CommandModule } from 'yargs';
import { create } from './create';
import { exec } from './exec';
import { list } from './list';
import { run } from './run';
import { del, kill, start, state } from './simple';
import { spec } from './spec';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [create, start, state, kill, del, run, list, spec, exec];
