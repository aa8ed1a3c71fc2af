// v0.0.42 (Slurm 24.11; tested on the 25.05.8/25.11.7 captures): same fields as v0.0.40 for what the exporter reads.
import { dataParserAdapter } from './v0040.ts';

export const v0042 = dataParserAdapter('v0.0.42');
