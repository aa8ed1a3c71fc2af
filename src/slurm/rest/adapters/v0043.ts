// v0.0.43 (Slurm 25.05; tested on the 25.05.8/25.11.7 captures): same fields as v0.0.40 for what the exporter reads.
import { dataParserAdapter } from './v0040.ts';

export const v0043 = dataParserAdapter('v0.0.43');
