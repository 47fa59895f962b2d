import type { CommandModule } from 'yargs';
import { checkpoint, restore } from './checkpoint';
import { create } from './create';
import { events } from './events';
import { exec } from './exec';
import { featuresCommand } from './features';
import { list } from './list';
import { pause, resume } from './pause';
import { ps } from './ps';
import { run } from './run';
import { del, kill, start, state } from './simple';
import { spec } from './spec';
import { update } from './update';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [create, start, state, kill, del, run, exec, list, spec, pause, resume, update, ps, events, featuresCommand, checkpoint, restore];
